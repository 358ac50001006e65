import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The measuring half of {@code scripts/bench}: the script starts and pins the servers, this program
 * drives the load, samples the proxies' CPU and memory from /proc, and writes one line of
 * tab-separated {@code key=value} pairs per measurement; {@code report} turns them into tables.
 *
 * <pre>
 * Bench measure --out FILE --payloads DIR --work DIR --mode quick|full --scenarios a,b,...
 *               --target 'name|label|pids|warm-seconds|chat-url|stream-url|slow-url|paced-url' ...
 * Bench report --in FILE [--md FILE]
 * Bench profile --pid PID --url URL --body FILE --lua FILE --seconds N --jfr FILE --out FILE
 * Bench jfr-summary --jfr FILE --rps REQUESTS_PER_SECOND --seconds N
 * Bench jmh-report --csv FILE
 * </pre>
 *
 * Scenarios: {@code throughput} (wrk, closed loop), {@code rate500}/{@code rate2000}/{@code rate8000}
 * (open loop), {@code stream} (SSE from nginx, open loop), {@code paced} (SSE with spaced events from
 * the slow upstream), {@code slow} (50 ms upstream latency, open loop).
 */
public final class Bench {

    static final long CLK_TCK = Long.getLong("clk.tck", 100);
    static final int PACED_EVENTS = 20;
    static final long PACED_INTERVAL_MS = Long.getLong("paced.interval.ms", 10);
    static final int WRK_CONNECTIONS = 64;
    /** The client key of scripts/bench.d/chain-on.yaml.in (post.lua sends it too). */
    static final String CLIENT_KEY = "sk-bench-client-0000000000000000";
    /** Other programs may use up to this share of one CPU (in %) during a measurement that counts as quiet. */
    static final double QUIET_PCT = 10;

    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: Bench measure|report|profile|jmh-report ...");
            System.exit(2);
        }
        Map<String, List<String>> opts = options(Arrays.copyOfRange(args, 1, args.length));
        switch (args[0]) {
            case "measure" -> measure(opts);
            case "report" -> Report.print(Path.of(one(opts, "in")), opts.containsKey("md")
                                          ? Path.of(one(opts, "md")) : null);
            case "profile" -> Profile.run(opts);
            case "soak" -> Soak.run(opts);
            case "jfr-summary" -> Profile.summarise(Path.of(one(opts, "jfr")), Double.parseDouble(one(opts, "rps")),
                                                    Integer.parseInt(one(opts, "seconds")), System.out);
            case "jmh-report" -> Report.jmh(Path.of(one(opts, "csv")));
            default -> {
                System.err.println("unknown command " + args[0]);
                System.exit(2);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Plan

    /** Durations of one mode. */
    record Mode(int runs, Duration measure, Duration measureStreams, Duration openLoopWarm, Duration wrk,
                int quietBudgetSeconds) {
        static Mode of(String name) {
            return switch (name) {
                case "quick" -> new Mode(3, Duration.ofSeconds(3), Duration.ofSeconds(2), Duration.ofMillis(500),
                                         Duration.ofSeconds(3), 60);
                case "full" -> new Mode(5, Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofSeconds(2),
                                        Duration.ofSeconds(10), 600);
                default -> throw new IllegalArgumentException("mode: " + name + " (expected: quick or full)");
            };
        }
    }

    /**
     * A system under test: where each request variant goes, which processes to watch, how long to warm
     * it up, and which scenarios it takes part in (all when the list is empty).
     */
    record Target(String name, String label, long[] pids, int warmSeconds, Map<String, URI> urls,
                  List<String> scenarios) {
        static Target parse(String spec) {
            String[] p = spec.split("\\|", -1);
            if (p.length != 9) {
                throw new IllegalArgumentException("--target: '" + spec + "' (expected 9 fields separated by |: "
                        + "name, label, pids, warm-up seconds, 4 URLs, scenarios)");
            }
            long[] pids = p[2].isBlank() ? new long[0]
                    : Arrays.stream(p[2].split(",")).mapToLong(Long::parseLong).toArray();
            Map<String, URI> urls = new LinkedHashMap<>();
            urls.put("chat", URI.create(p[4]));
            urls.put("stream", URI.create(p[5]));
            urls.put("slow", URI.create(p[6]));
            urls.put("paced", URI.create(p[7]));
            List<String> scenarios = p[8].isBlank() ? List.of() : List.of(p[8].split("[+,]"));
            return new Target(p[0], p[1], pids, Integer.parseInt(p[3]), urls, scenarios);
        }

        boolean takesPart(String scenario) {
            return scenarios.isEmpty() || scenarios.contains(scenario);
        }
    }

    /** Models by request variant: the names Detour routes on; direct and nginx ignore them. */
    static final Map<String, String> MODELS = Map.of(
            "chat", "gpt-4o-mini",
            "stream", "gpt-4o-mini-stream",
            "slow", "gpt-4o-mini-slow",
            "paced", "gpt-4o-mini-paced");

    private static void measure(Map<String, List<String>> opts) throws Exception {
        Path out = Path.of(one(opts, "out"));
        Path payloads = Path.of(one(opts, "payloads"));
        Path work = Path.of(one(opts, "work"));
        Mode mode = Mode.of(one(opts, "mode"));
        int runs = opts.containsKey("runs") ? Integer.parseInt(one(opts, "runs")) : mode.runs();
        List<String> scenarios = List.of(one(opts, "scenarios").split(","));
        List<Target> targets = new ArrayList<>();
        for (String spec : opts.getOrDefault("target", List.of())) {
            targets.add(Target.parse(spec));
        }
        String template = Files.readString(payloads.resolve("chat-request.json"));
        Map<String, Path> bodies = new LinkedHashMap<>();
        for (String variant : MODELS.keySet()) {
            boolean stream = variant.equals("stream") || variant.equals("paced");
            String body = template.replace("@MODEL@", MODELS.get(variant)).replace("@STREAM@", String.valueOf(stream));
            Path file = work.resolve("body-" + variant + ".json");
            Files.writeString(file, body);
            bodies.put(variant, file);
        }
        Path lua = Path.of(one(opts, "lua"));
        List<Long> ours = new ArrayList<>();
        for (Target t : targets) {
            for (long pid : t.pids()) {
                ours.add(pid);
            }
        }
        if (opts.containsKey("own-pids")) {
            for (String pid : one(opts, "own-pids").split(",")) {
                if (!pid.isBlank()) {
                    ours.add(Long.parseLong(pid.trim()));
                }
            }
        }
        noise = new Noise(ours.stream().mapToLong(Long::longValue).toArray());
        quietBudgetNanos = TimeUnit.SECONDS.toNanos(opts.containsKey("max-wait")
                ? Long.parseLong(one(opts, "max-wait")) : mode.quietBudgetSeconds());

        try (PrintStream results = new PrintStream(Files.newOutputStream(out, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND), true, StandardCharsets.UTF_8)) {
            for (Target t : targets) {
                results.println("#target\tname=" + t.name() + "\tlabel=" + t.label());
            }
            // Warm-up of this generator itself (its JIT would otherwise compile during the first
            // measurements, on the CPU the upstreams share), against the first target. Discarded.
            Target first = targets.get(0);
            log("warm-up: load generator, 3 s against %s (discarded)", first.name());
            openLoop(first, "chat", bodies, 2000, 64, Duration.ZERO, Duration.ofSeconds(2));
            openLoop(first, "stream", bodies, 500, 32, Duration.ZERO, Duration.ofMillis(500));
            openLoop(first, "paced", bodies, 50, 32, Duration.ZERO, Duration.ofMillis(500));
            // Warm-up: JIT-compile the proxies' hot paths and fill their connection pools. Discarded.
            for (Target t : targets) {
                if (t.warmSeconds() <= 0) {
                    continue;
                }
                warmUp(t, scenarios, bodies, lua);
            }
            for (int run = 1; run <= runs; run++) {
                for (String scenario : scenarios) {
                    for (Target t : targets) {
                        if (!t.takesPart(scenario)) {
                            continue;
                        }
                        // On a busy machine, measure again (up to twice, while the patience lasts) and keep
                        // the attempt other programs disturbed least.
                        Map<String, String> row = null;
                        double least = Double.MAX_VALUE;
                        int attempt = 0;
                        while (true) {
                            attempt++;
                            awaitQuiet();
                            noise.start();
                            long wall0 = System.nanoTime();
                            Map<String, String> r = measureOne(t, scenario, bodies, lua, mode);
                            long took = System.nanoTime() - wall0;
                            double pct = noise.percentOfOneCpu(took);
                            if (pct < least) {
                                least = pct;
                                row = r;
                                row.put("noise_pct", fmt(pct));
                                row.put("attempts", String.valueOf(attempt));
                            }
                            if (pct < QUIET_PCT || attempt == 3 || quietBudgetNanos <= 0) {
                                break;
                            }
                            quietBudgetNanos -= took; // a repeat is patience spent, like waiting
                            log("run %d/%d %-10s %-16s disturbed (other programs used %.0f%% of a CPU): measuring again",
                                run, runs, scenario, t.name(), pct);
                        }
                        StringBuilder line = new StringBuilder();
                        line.append("scenario=").append(scenario).append("\ttarget=").append(t.name())
                            .append("\trun=").append(run);
                        row.forEach((k, v) -> line.append('\t').append(k).append('=').append(v));
                        results.println(line);
                        log("run %d/%d %-10s %-16s %s", run, runs, scenario, t.name(), brief(row));
                    }
                }
            }
            for (Target t : targets) {
                if (t.pids().length > 0) {
                    results.println("scenario=memory\ttarget=" + t.name() + "\trun=0\tpeak_rss_kb=" + hwmKb(t.pids())
                                    + "\trss_kb=" + rssKb(t.pids()));
                }
            }
        }
    }

    /**
     * Runs every kind of request once, then closed-loop load in 2 s slices (each followed by a little of
     * the other kinds) for at least the target's warm-up seconds, then until the JIT
     * is done, at most four times the minimum. A JVM pinned to one CPU compiles on the CPU it serves
     * from: Detour spends some 30 s of CPU in its JIT compilers over its first minute of load, and its
     * CPU per request falls from ~900 µs to ~40 µs meanwhile; measuring earlier reports the JIT, not
     * Detour. "Done" is read from HotSpot's own counter ({@code java.ci.totalTime} through
     * {@code jcmd PerfCounter.print}): less than 2% of a slice spent compiling, and a CPU per request
     * within 10% of the previous slice's. For a target that is not a JVM only the latter counts.
     */
    private static void warmUp(Target t, List<String> scenarios, Map<String, Path> bodies, Path lua)
            throws Exception {
        // Every kind of request first: code compiled for the chat path alone is deoptimised (and
        // compiled again, at a high CPU cost) the first time a stream or a slow answer goes through it.
        boolean streams = scenarios.contains("stream") && t.takesPart("stream");
        boolean slow = scenarios.contains("slow") && t.takesPart("slow");
        boolean paced = scenarios.contains("paced") && t.takesPart("paced");
        otherPaths(t, bodies, streams, slow, paced, Duration.ofSeconds(1));
        long start = System.nanoTime();
        long min = TimeUnit.SECONDS.toNanos(t.warmSeconds());
        long max = 4 * min;
        double previous = -1;
        double perRequest;
        double jit = jitSeconds(t.pids());
        double jitShare;
        boolean done;
        while (true) {
            long cpu0 = cpuTicks(t.pids());
            long slice0 = System.nanoTime();
            Map<String, String> w = wrk(t.urls().get("chat"), bodies.get("chat"), lua, Duration.ofSeconds(2));
            long cpu1 = cpuTicks(t.pids());
            otherPaths(t, bodies, streams, slow, paced, Duration.ofMillis(300));
            double sliceSeconds = (System.nanoTime() - slice0) / 1e9;
            double jitNow = jitSeconds(t.pids());
            jitShare = jit < 0 || jitNow < 0 ? 0 : (jitNow - jit) / sliceSeconds;
            jit = jitNow;
            long requests = Math.max(1, Long.parseLong(w.get("requests")));
            perRequest = t.pids().length == 0 ? 0 : (cpu1 - cpu0) * 1e6 / CLK_TCK / requests;
            long elapsed = System.nanoTime() - start;
            boolean stable = t.pids().length == 0
                             || previous > 0 && Math.abs(perRequest - previous) < 0.10 * previous;
            done = stable && jitShare < 0.02;
            if (elapsed >= min && done || elapsed >= max) {
                log("warm-up: %s, %d s of closed-loop load (discarded); %s: %.1f µs CPU/request, %.0f%% of the "
                    + "last 2 s compiling", t.name(), TimeUnit.NANOSECONDS.toSeconds(elapsed),
                    done ? "steady" : "NOT steady yet", perRequest, jitShare * 100);
                return;
            }
            previous = perRequest;
        }
    }

    private static void otherPaths(Target t, Map<String, Path> bodies, boolean streams, boolean slow, boolean paced,
                                   Duration each) throws Exception {
        if (streams) {
            openLoop(t, "stream", bodies, 1000, 32, Duration.ZERO, each);
        }
        if (slow) {
            openLoop(t, "slow", bodies, 500, 128, Duration.ZERO, each);
        }
        if (paced) {
            openLoop(t, "paced", bodies, 50, 32, Duration.ZERO, each);
        }
    }

    /** Returns the CPU seconds the JIT compilers of the (first) JVM among {@code pids} used so far, or -1. */
    private static double jitSeconds(long[] pids) {
        if (pids.length != 1) {
            return -1;
        }
        try {
            Process p = new ProcessBuilder("jcmd", String.valueOf(pids[0]), "PerfCounter.print")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return -1;
            }
            long ticks = -1;
            long frequency = -1;
            for (String line : out.split("\n")) {
                if (line.startsWith("java.ci.totalTime=")) {
                    ticks = Long.parseLong(line.substring(18).trim());
                } else if (line.startsWith("sun.os.hrt.frequency=")) {
                    frequency = Long.parseLong(line.substring(21).trim());
                }
            }
            return ticks < 0 || frequency <= 0 ? -1 : ticks / (double) frequency;
        } catch (IOException | RuntimeException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static Map<String, String> measureOne(Target t, String scenario, Map<String, Path> bodies, Path lua,
                                                  Mode mode) throws Exception {
        return switch (scenario) {
            case "throughput" -> {
                long cpu0 = cpuTicks(t.pids());
                Map<String, String> w = wrk(t.urls().get("chat"), bodies.get("chat"), lua, mode.wrk());
                long cpu1 = cpuTicks(t.pids());
                long requests = Long.parseLong(w.get("requests"));
                double seconds = Long.parseLong(w.get("duration_us")) / 1e6;
                long errors = sum(w, "err_connect", "err_read", "err_write", "err_status", "err_timeout");
                Map<String, String> row = new LinkedHashMap<>();
                row.put("rps", fmt(requests / seconds));
                row.put("requests", String.valueOf(requests));
                row.put("errors", String.valueOf(errors));
                row.put("p50_us", w.get("p50_us"));
                row.put("p99_us", w.get("p99_us"));
                putCpu(row, t, cpu1 - cpu0, requests);
                yield row;
            }
            case "rate500", "rate2000", "rate8000" -> {
                int rate = Integer.parseInt(scenario.substring(4));
                yield openLoopRow(t, "chat", bodies, rate, 64, mode, mode.measure());
            }
            case "stream" -> openLoopRow(t, "stream", bodies, 500, 32, mode, mode.measureStreams());
            case "paced" -> openLoopRow(t, "paced", bodies, 50, 32, mode, mode.measureStreams());
            case "slow" -> openLoopRow(t, "slow", bodies, 1000, 128, mode, mode.measureStreams());
            default -> throw new IllegalArgumentException("unknown scenario " + scenario);
        };
    }

    private static Map<String, String> openLoopRow(Target t, String variant, Map<String, Path> bodies, int rate,
                                                   int connections, Mode mode, Duration measure) throws Exception {
        long cpu0 = cpuTicks(t.pids());
        OpenLoop.Result r = openLoop(t, variant, bodies, rate, connections, mode.openLoopWarm(), measure);
        long cpu1 = cpuTicks(t.pids());
        Map<String, String> row = new LinkedHashMap<>();
        row.put("rate", String.valueOf(rate));
        row.put("achieved", fmt(r.rate()));
        row.put("requests", String.valueOf(r.measured));
        row.put("errors", String.valueOf(r.errors));
        row.put("saturated", String.valueOf(r.saturated));
        for (String[] q : new String[][] {{"p50", "0.5"}, {"p90", "0.9"}, {"p99", "0.99"}, {"p999", "0.999"},
                                          {"max", "1"}}) {
            row.put(q[0] + "_us", us(OpenLoop.percentile(r.latency, Double.parseDouble(q[1]))));
        }
        row.put("ttfb_p50_us", us(OpenLoop.percentile(r.ttfb, 0.5)));
        row.put("ttfb_p99_us", us(OpenLoop.percentile(r.ttfb, 0.99)));
        if (r.lag.length > 0) {
            row.put("lag_p50_us", us(OpenLoop.percentile(r.lag, 0.5)));
            row.put("lag_p99_us", us(OpenLoop.percentile(r.lag, 0.99)));
            row.put("lag_max_us", us(OpenLoop.percentile(r.lag, 1)));
            row.put("min_events", String.valueOf(r.minEvents));
        }
        row.put("sendlag_p50_us", us(OpenLoop.percentile(r.sendLag, 0.5)));
        row.put("sendlag_p99_us", us(OpenLoop.percentile(r.sendLag, 0.99)));
        putCpu(row, t, cpu1 - cpu0, r.completed);
        if (r.firstError != null) {
            row.put("first_error", r.firstError.replace('\t', ' '));
        }
        return row;
    }

    private static OpenLoop.Result openLoop(Target t, String variant, Map<String, Path> bodies, int rate,
                                            int connections, Duration warm, Duration measure) throws Exception {
        URI url = t.urls().get(variant);
        byte[] body = Files.readAllBytes(bodies.get(variant));
        String head = "POST " + url.getRawPath() + " HTTP/1.1\r\nHost: " + url.getHost() + ":" + url.getPort()
                      + "\r\nContent-Type: application/json\r\nAccept: "
                      + (variant.equals("stream") || variant.equals("paced") ? "text/event-stream" : "application/json")
                      + "\r\nAuthorization: Bearer " + CLIENT_KEY + "\r\nCache-Control: no-store, max-age=0"
                      + "\r\nUser-Agent: detour-bench\r\nContent-Length: "
                      + body.length + "\r\n\r\n";
        byte[] hb = head.getBytes(StandardCharsets.US_ASCII);
        byte[] request = new byte[hb.length + body.length];
        System.arraycopy(hb, 0, request, 0, hb.length);
        System.arraycopy(body, 0, request, hb.length, body.length);
        boolean paced = variant.equals("paced");
        OpenLoop gen = new OpenLoop(new InetSocketAddress(url.getHost(), url.getPort()), request, connections,
                                    paced ? PACED_EVENTS : 0, TimeUnit.MILLISECONDS.toNanos(PACED_INTERVAL_MS));
        long drain = TimeUnit.SECONDS.toNanos(paced || variant.equals("slow") ? 3 : 2);
        return gen.run(rate, warm.toNanos(), measure.toNanos(), drain);
    }

    private static void putCpu(Map<String, String> row, Target t, long ticks, long requests) {
        if (t.pids().length == 0 || requests == 0) {
            return;
        }
        double cpuSeconds = ticks / (double) CLK_TCK;
        row.put("cpu_s", fmt(cpuSeconds));
        row.put("cpu_us_per_req", fmt(cpuSeconds * 1e6 / requests));
        row.put("rss_kb", String.valueOf(rssKb(t.pids())));
        row.put("peak_rss_kb", String.valueOf(hwmKb(t.pids())));
    }

    // ---------------------------------------------------------------------------------------------
    // wrk

    static Map<String, String> wrk(URI url, Path body, Path lua, Duration duration) throws IOException,
            InterruptedException {
        List<String> cmd = List.of("wrk", "-t1", "-c" + WRK_CONNECTIONS, "-d" + duration.toSeconds() + "s",
                                   "--timeout", "5s", "-s", lua.toString(), url.toString(), "--", body.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuilder all = new StringBuilder();
        Map<String, String> values = new LinkedHashMap<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                all.append(line).append('\n');
                if (line.startsWith("WRK\t")) {
                    for (String kv : line.substring(4).split("\t")) {
                        int eq = kv.indexOf('=');
                        values.put(kv.substring(0, eq), kv.substring(eq + 1));
                    }
                }
            }
        }
        if (!p.waitFor(duration.toSeconds() + 30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("wrk did not finish in time against " + url);
        }
        if (p.exitValue() != 0 || values.isEmpty()) {
            throw new IOException("wrk failed against " + url + " (exit " + p.exitValue() + "):\n" + all);
        }
        return values;
    }

    // ---------------------------------------------------------------------------------------------
    // Noise: CPU used by other programs while we measure

    private static Noise noise;
    private static long quietBudgetNanos;

    /**
     * Waits until other programs use less than {@link #QUIET_PCT} of one CPU over a second, for at most
     * what is left of the budget; a shared machine (a build next door) turns tail latencies into noise.
     */
    private static void awaitQuiet() throws Exception {
        long waited = 0;
        while (true) {
            noise.start();
            Thread.sleep(waited == 0 ? 200 : 1000);
            double pct = noise.percentOfOneCpu(TimeUnit.MILLISECONDS.toNanos(waited == 0 ? 200 : 1000));
            if (pct < QUIET_PCT) {
                return;
            }
            if (quietBudgetNanos <= 0) {
                return; // out of patience: measure anyway; the row records the noise
            }
            if (waited == 0) {
                log("other programs use %.0f%% of a CPU; waiting for the machine to go quiet (up to %d s more)",
                    pct, TimeUnit.NANOSECONDS.toSeconds(quietBudgetNanos));
            }
            waited += 1000;
            quietBudgetNanos -= TimeUnit.SECONDS.toNanos(1);
        }
    }

    /**
     * User-space CPU of every program but ours (the machine's total from /proc/stat minus the processes
     * we started and this JVM with its reaped children, i.e. wrk), plus time stolen by the hypervisor.
     * Kernel time is left out: the loopback traffic we generate shows up there, in softirqs and kernel
     * threads, and would count as noise.
     */
    static final class Noise {
        private final long[] ours;
        private long machine0;
        private long ours0;

        Noise(long[] ours) {
            this.ours = ours;
        }

        void start() throws IOException {
            machine0 = machineUserAndSteal();
            ours0 = oursUser();
        }

        double percentOfOneCpu(long wallNanos) throws IOException {
            long foreign = (machineUserAndSteal() - machine0) - (oursUser() - ours0);
            return Math.max(0, foreign) * 100.0 / CLK_TCK / (wallNanos / 1e9);
        }

        private long oursUser() throws IOException {
            long total = selfUserWithChildren();
            for (long pid : ours) {
                total += statField(pid, 11); // utime
            }
            return total;
        }

        private static long selfUserWithChildren() throws IOException {
            long self = ProcessHandle.current().pid();
            return statField(self, 11) + statField(self, 13); // utime + cutime
        }

        private static long machineUserAndSteal() throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
                if (line.startsWith("cpu ")) {
                    String[] f = line.trim().split("\\s+");
                    return Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[8]); // user nice steal
                }
            }
            throw new IOException("/proc/stat has no cpu line");
        }
    }

    /** Returns field {@code index} of /proc/PID/stat counted from the one after the command name, or 0. */
    static long statField(long pid, int index) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[index]);
        } catch (IOException | RuntimeException e) {
            return 0; // the process is gone
        }
    }

    // ---------------------------------------------------------------------------------------------
    // /proc

    /** Returns utime + stime of {@code pids} (whole processes, every thread), in clock ticks. */
    static long cpuTicks(long[] pids) throws IOException {
        long total = 0;
        for (long pid : pids) {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            // Fields after the command name, which is in parentheses and may contain spaces.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            total += Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15 of proc(5)
        }
        return total;
    }

    static long hwmKb(long[] pids) {
        return statusKb(pids, "VmHWM:");
    }

    static long rssKb(long[] pids) {
        return statusKb(pids, "VmRSS:");
    }

    private static long statusKb(long[] pids, String field) {
        long total = 0;
        for (long pid : pids) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                    if (line.startsWith(field)) {
                        total += Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
                    }
                }
            } catch (IOException e) {
                return -1;
            }
        }
        return total;
    }

    // ---------------------------------------------------------------------------------------------
    // Helpers

    static Map<String, List<String>> options(String[] args) {
        Map<String, List<String>> opts = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value, got '" + args[i] + "'");
            }
            opts.computeIfAbsent(args[i].substring(2), k -> new ArrayList<>()).add(args[++i]);
        }
        return opts;
    }

    static String one(Map<String, List<String>> opts, String name) {
        List<String> v = opts.get(name);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("missing --" + name);
        }
        return v.get(v.size() - 1);
    }

    private static long sum(Map<String, String> m, String... keys) {
        long s = 0;
        for (String k : keys) {
            s += Long.parseLong(m.getOrDefault(k, "0"));
        }
        return s;
    }

    static String fmt(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }

    private static String us(long nanos) {
        return nanos < 0 ? "-1" : String.format(Locale.ROOT, "%.1f", nanos / 1000.0);
    }

    private static String brief(Map<String, String> row) {
        StringBuilder sb = new StringBuilder();
        for (String k : List.of("rps", "achieved", "p50_us", "p99_us", "p999_us", "ttfb_p50_us", "lag_p50_us",
                                "lag_p99_us", "cpu_us_per_req", "errors", "noise_pct")) {
            if (row.containsKey(k)) {
                sb.append(k).append('=').append(row.get(k)).append(' ');
            }
        }
        if (row.containsKey("first_error")) {
            sb.append("first_error=\"").append(row.get("first_error")).append('"');
        }
        return sb.toString();
    }

    static void log(String format, Object... args) {
        System.err.printf(Locale.ROOT, "bench: " + format + "%n", args);
    }
}
