import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The soak test: Detour under a steady open-loop load (chat answers and streams at once) for many
 * minutes, with the heap measured after a full collection at each interval, to show whether memory
 * grows with the number of requests served.
 *
 * <p>Why a full collection before each reading: the heap's used size between collections says only
 * how far the young generation has filled; what survives a full collection is what Detour keeps.
 * Each reading costs one full GC (a few milliseconds on a 128 MiB heap), once per interval.
 *
 * <p>The verdict fits a line through the readings after the first quarter of the run (JIT, class
 * loading, pools and caches fill up first) and reports its slope in MiB per 10 minutes.
 */
final class Soak {

    private static final Pattern USED = Pattern.compile("used (\\d+)K");

    private Soak() {
    }

    static void run(Map<String, List<String>> opts) throws Exception {
        long pid = Long.parseLong(Bench.one(opts, "pid"));
        URI url = URI.create(Bench.one(opts, "url"));
        byte[] chat = Files.readAllBytes(Path.of(Bench.one(opts, "chat-body")));
        byte[] stream = Files.readAllBytes(Path.of(Bench.one(opts, "stream-body")));
        int minutes = Integer.parseInt(Bench.one(opts, "minutes"));
        int chatRate = Integer.parseInt(Bench.one(opts, "chat-rate"));
        int streamRate = Integer.parseInt(Bench.one(opts, "stream-rate"));
        int intervalSeconds = Integer.parseInt(Bench.one(opts, "interval"));
        Path outFile = Path.of(Bench.one(opts, "out"));

        int intervals = Math.max(2, minutes * 60 / intervalSeconds);
        List<double[]> samples = new ArrayList<>(); // minute, heap MiB after GC, RSS MiB
        long served = 0;
        long errors = 0;
        long started = System.nanoTime();
        Bench.log("soak: %d min, %d chat + %d stream req/s, heap after full GC every %d s", minutes, chatRate,
                  streamRate, intervalSeconds);
        for (int i = 0; i < intervals; i++) {
            OpenLoop.Result[] results = new OpenLoop.Result[2];
            Exception[] failure = new Exception[1];
            Thread streams = new Thread(() -> {
                try {
                    results[1] = load(url, stream, true, streamRate, intervalSeconds);
                } catch (Exception e) {
                    failure[0] = e;
                }
            }, "soak-streams");
            streams.start();
            results[0] = load(url, chat, false, chatRate, intervalSeconds);
            streams.join();
            if (failure[0] != null) {
                throw failure[0];
            }
            for (OpenLoop.Result r : results) {
                served += r.completed;
                errors += r.errors;
            }
            double heap = heapAfterFullGcMiB(pid);
            double rss = Bench.rssKb(new long[] {pid}) / 1024.0;
            double minute = (System.nanoTime() - started) / 60e9;
            samples.add(new double[] {minute, heap, rss});
            Bench.log("soak: %5.1f min  heap after GC %6.1f MiB  RSS %6.1f MiB  served %,d  errors %d  "
                      + "p99 chat %.2f ms", minute, heap, rss, served, errors,
                      OpenLoop.percentile(results[0].latency, 0.99) / 1e6);
        }
        try (PrintStream out = new PrintStream(Files.newOutputStream(outFile), true, StandardCharsets.UTF_8)) {
            report(out, samples, served, errors, chatRate, streamRate);
        }
        report(System.out, samples, served, errors, chatRate, streamRate);
    }

    private static OpenLoop.Result load(URI url, byte[] body, boolean stream, int rate, int seconds) throws Exception {
        String head = "POST " + url.getRawPath() + " HTTP/1.1\r\nHost: " + url.getHost() + ":" + url.getPort()
                      + "\r\nContent-Type: application/json\r\nAccept: "
                      + (stream ? "text/event-stream" : "application/json")
                      + "\r\nAuthorization: Bearer " + Bench.CLIENT_KEY + "\r\nUser-Agent: detour-bench\r\n"
                      + "Content-Length: " + body.length + "\r\n\r\n";
        byte[] hb = head.getBytes(StandardCharsets.US_ASCII);
        byte[] request = new byte[hb.length + body.length];
        System.arraycopy(hb, 0, request, 0, hb.length);
        System.arraycopy(body, 0, request, hb.length, body.length);
        OpenLoop gen = new OpenLoop(new InetSocketAddress(url.getHost(), url.getPort()), request, stream ? 16 : 32,
                                    0, 0);
        return gen.run(rate, 0, TimeUnit.SECONDS.toNanos(seconds), TimeUnit.SECONDS.toNanos(2));
    }

    /** Runs a full collection in {@code pid} and returns the heap it still uses, in MiB. */
    static double heapAfterFullGcMiB(long pid) throws IOException, InterruptedException {
        jcmd(pid, "GC.run");
        long kb = 0;
        Matcher m = USED.matcher(jcmd(pid, "GC.heap_info"));
        // Each generation's line has "total NK, used NK"; the metaspace lines use another format.
        while (m.find()) {
            kb += Long.parseLong(m.group(1));
        }
        return kb / 1024.0;
    }

    private static String jcmd(long pid, String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("jcmd", String.valueOf(pid), command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("jcmd " + pid + " " + command + " failed:\n" + output);
        }
        return output;
    }

    private static void report(PrintStream out, List<double[]> samples, long served, long errors, int chatRate,
                               int streamRate) {
        out.printf("Soak: %d chat + %d stream req/s, %,d requests served, %d errors%n", chatRate, streamRate, served,
                   errors);
        out.println();
        out.println("| minute | heap after full GC (MiB) | RSS (MiB) |");
        out.println("|-------:|-------------------------:|----------:|");
        for (double[] s : samples) {
            out.printf("| %.1f | %.1f | %.1f |%n", s[0], s[1], s[2]);
        }
        List<double[]> settled = samples.subList(samples.size() / 4, samples.size());
        double heapSlope = slope(settled, 1) * 10;
        double rssSlope = slope(settled, 2) * 10;
        double first = settled.get(0)[1];
        double max = settled.stream().mapToDouble(s -> s[1]).max().orElse(first);
        out.println();
        out.printf("After the first quarter: heap after GC %.1f -> %.1f MiB (max %.1f), trend %+.2f MiB per 10 min; "
                   + "RSS trend %+.1f MiB per 10 min%n", first, settled.get(settled.size() - 1)[1], max, heapSlope,
                   rssSlope);
        // Flat: the fitted growth over 10 minutes stays within 2 MiB, i.e. no leak of even a few hundred
        // bytes per request at these rates (1,500 req/s x 600 s = 900k requests: 2 MiB is ~2 bytes each).
        out.printf("Verdict: %s%n", Math.abs(heapSlope) <= 2.0 && errors == 0 ? "flat (no growth)"
                : errors > 0 ? "errors during the soak" : "GROWING");
    }

    /** Least-squares slope of column {@code y} against column 0, per unit of column 0. */
    private static double slope(List<double[]> points, int y) {
        int n = points.size();
        if (n < 2) {
            return 0;
        }
        double mx = 0;
        double my = 0;
        for (double[] p : points) {
            mx += p[0];
            my += p[y];
        }
        mx /= n;
        my /= n;
        double num = 0;
        double den = 0;
        for (double[] p : points) {
            num += (p[0] - mx) * (p[y] - my);
            den += (p[0] - mx) * (p[0] - mx);
        }
        return den == 0 ? 0 : num / den;
    }
}
