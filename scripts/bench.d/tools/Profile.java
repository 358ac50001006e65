import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * Profiles a running Detour with JDK Flight Recorder while wrk drives closed-loop load, then summarises
 * the recording: top frames by self time and inclusive time, native (JNI) samples, heap allocation per
 * request of the event-loop threads, allocation sites, and GC pauses.
 *
 * <pre>Bench profile --pid PID --url URL --body FILE --lua FILE --seconds 20 --jfr FILE --out FILE</pre>
 */
final class Profile {

    private static final int TOP = 25;

    private Profile() {
    }

    static void run(Map<String, List<String>> opts) throws Exception {
        long pid = Long.parseLong(Bench.one(opts, "pid"));
        URI url = URI.create(Bench.one(opts, "url"));
        Path body = Path.of(Bench.one(opts, "body"));
        Path lua = Path.of(Bench.one(opts, "lua"));
        int seconds = Integer.parseInt(Bench.one(opts, "seconds"));
        Path jfr = Path.of(Bench.one(opts, "jfr")).toAbsolutePath();
        Path outFile = Path.of(Bench.one(opts, "out"));
        Files.deleteIfExists(jfr);

        AtomicReference<Map<String, String>> wrkResult = new AtomicReference<>();
        AtomicReference<Exception> wrkError = new AtomicReference<>();
        Thread load = new Thread(() -> {
            try {
                wrkResult.set(Bench.wrk(url, body, lua, Duration.ofSeconds(seconds + 4)));
            } catch (Exception e) {
                wrkError.set(e);
            }
        }, "wrk");
        load.start();
        Thread.sleep(2000);
        Bench.log("profile: JFR.start on pid %d for %d s", pid, seconds);
        exec(List.of("jcmd", String.valueOf(pid), "JFR.start", "name=detour-bench", "settings=profile",
                     "duration=" + seconds + "s", "filename=" + jfr));
        load.join(TimeUnit.SECONDS.toMillis(seconds + 60));
        if (wrkError.get() != null) {
            throw wrkError.get();
        }
        // The recording is written when it stops; wait for the file to appear and stop growing.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        long lastSize = -1;
        while (System.nanoTime() < deadline) {
            long size = Files.exists(jfr) ? Files.size(jfr) : -1;
            if (size > 0 && size == lastSize) {
                break;
            }
            lastSize = size;
            Thread.sleep(500);
        }
        if (!Files.exists(jfr)) {
            throw new IOException("JFR did not write " + jfr + " within 30 s after the load ended");
        }
        Map<String, String> w = wrkResult.get();
        double rps = Long.parseLong(w.get("requests")) / (Long.parseLong(w.get("duration_us")) / 1e6);
        try (PrintStream out = new PrintStream(Files.newOutputStream(outFile), true, StandardCharsets.UTF_8)) {
            summarise(jfr, rps, seconds, out);
        }
        System.out.print(Files.readString(outFile));
    }

    static void summarise(Path jfr, double rps, int seconds, PrintStream out) throws IOException {
        Map<String, Integer> self = new HashMap<>();
        Map<String, Integer> inclusive = new HashMap<>();
        Map<String, Integer> nativeSelf = new HashMap<>();
        Map<String, Integer> byThread = new HashMap<>();
        Map<String, Integer> allocSites = new HashMap<>();
        Map<String, Integer> allocClasses = new HashMap<>();
        Map<String, long[]> threadAlloc = new HashMap<>(); // thread → {first bytes, first nanos, last bytes, last nanos}
        int samples = 0;
        int nativeSamples = 0;
        int gcs = 0;
        long gcPauseNanos = 0;
        long gcLongest = 0;
        int allocSamples = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(jfr)) {
            String type = e.getEventType().getName();
            switch (type) {
                case "jdk.ExecutionSample" -> {
                    samples++;
                    RecordedThread t = e.getThread("sampledThread");
                    byThread.merge(threadGroup(t), 1, Integer::sum);
                    RecordedStackTrace st = e.getStackTrace();
                    if (st == null || st.getFrames().isEmpty()) {
                        continue;
                    }
                    self.merge(frame(st.getFrames().get(0)), 1, Integer::sum);
                    Set<String> seen = new HashSet<>();
                    for (RecordedFrame f : st.getFrames()) {
                        String name = frame(f);
                        if (seen.add(name)) {
                            inclusive.merge(name, 1, Integer::sum);
                        }
                    }
                }
                case "jdk.NativeMethodSample" -> {
                    nativeSamples++;
                    RecordedStackTrace st = e.getStackTrace();
                    if (st != null && !st.getFrames().isEmpty()) {
                        nativeSelf.merge(frame(st.getFrames().get(0)) + "  [" + threadGroup(e.getThread("sampledThread"))
                                         + "]", 1, Integer::sum);
                    }
                }
                case "jdk.ObjectAllocationSample" -> {
                    // Counted, not weighted: an object is sampled when it starts a new TLAB, with a
                    // chance proportional to its size, so counts estimate byte shares; the "weight"
                    // field is heavy-tailed under JFR's throttling and one sample can dominate.
                    allocSamples++;
                    String cls = e.getClass("objectClass").getName();
                    allocClasses.merge(cls, 1, Integer::sum);
                    RecordedStackTrace st = e.getStackTrace();
                    if (st != null && !st.getFrames().isEmpty()) {
                        allocSites.merge(cls + "  <-  " + firstOwnFrame(st), 1, Integer::sum);
                    }
                }
                case "jdk.ThreadAllocationStatistics" -> {
                    RecordedThread t = e.getThread("thread");
                    if (t == null) {
                        continue;
                    }
                    long bytes = e.getLong("allocated");
                    long at = e.getStartTime().toEpochMilli() * 1_000_000L;
                    long[] a = threadAlloc.computeIfAbsent(t.getJavaName() == null ? "?" : t.getJavaName(),
                                                           k -> new long[] {bytes, at, bytes, at});
                    if (at < a[1]) {
                        a[0] = bytes;
                        a[1] = at;
                    }
                    if (at >= a[3]) {
                        a[2] = bytes;
                        a[3] = at;
                    }
                }
                case "jdk.GarbageCollection" -> {
                    gcs++;
                    long pause = e.getDuration("sumOfPauses").toNanos();
                    gcPauseNanos += pause;
                    gcLongest = Math.max(gcLongest, e.getDuration("longestPause").toNanos());
                }
                default -> {
                }
            }
        }
        out.printf("JFR profile of Detour under closed-loop load (wrk -t1 -c%d, chat, non-streaming), %d s, "
                   + "settings=profile%n", Bench.WRK_CONNECTIONS, seconds);
        out.printf("Throughput during the profile (JFR on): %,.0f req/s%n%n", rps);
        out.printf("Java execution samples: %d; by thread: %s%n", samples, percentages(byThread, samples));
        out.printf("%nTop %d frames by self time (top of stack, ExecutionSample):%n", TOP);
        printTop(self, samples, out);
        out.printf("%nTop %d frames by inclusive time (anywhere on the stack):%n", TOP);
        printTop(inclusive, samples, out);
        Map<String, Integer> own = new HashMap<>();
        inclusive.forEach((k, v) -> {
            if (k.startsWith("dev.detour.")) {
                own.put(k, v);
            }
        });
        out.printf("%nDetour's own methods (dev.detour.*) by inclusive time:%n");
        printTop(own, samples, out);
        out.printf("%nNative method samples (threads in JNI/syscalls, mostly epoll_wait/read/write): %d%n", nativeSamples);
        printTop(nativeSelf, nativeSamples, out);

        out.printf("%nHeap allocation per thread during the recording (jdk.ThreadAllocationStatistics):%n");
        long ioBytes = 0;
        double ioSeconds = 0;
        for (Map.Entry<String, long[]> t : threadAlloc.entrySet()) {
            long[] a = t.getValue();
            long bytes = a[2] - a[0];
            double secs = (a[3] - a[1]) / 1e9;
            if (bytes <= 0 || secs <= 0) {
                continue;
            }
            out.printf("  %-28s %,12d bytes in %.1f s%n", t.getKey(), bytes, secs);
            if (t.getKey().startsWith("detour-io")) {
                ioBytes += bytes;
                ioSeconds = Math.max(ioSeconds, secs);
            }
        }
        if (ioBytes > 0 && ioSeconds > 0) {
            out.printf("  => event-loop threads allocate %,.0f B/request (%,.0f MB/s at %,.0f req/s)%n",
                       ioBytes / (rps * ioSeconds), ioBytes / ioSeconds / 1e6, rps);
        }
        if (allocSamples > 0) {
            out.printf("%nTop allocated classes (share of %d jdk.ObjectAllocationSample events, ~ share of bytes):%n",
                       allocSamples);
            printTop(allocClasses, allocSamples, out);
            out.printf("%nTop allocation sites (class <- first frame outside java.*/jdk.*/sun.*):%n");
            printTop(allocSites, allocSamples, out);
        }
        out.printf("%nGC: %d collections, %.1f ms of pauses in total, longest %.2f ms%n", gcs, gcPauseNanos / 1e6,
                   gcLongest / 1e6);
    }

    private static String threadGroup(RecordedThread t) {
        if (t == null || t.getJavaName() == null) {
            return "?";
        }
        return t.getJavaName().replaceAll("-\\d+$", "-N").replaceAll("\\d+-\\d+", "N-N");
    }

    private static String frame(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }

    private static String firstOwnFrame(RecordedStackTrace st) {
        for (RecordedFrame f : st.getFrames()) {
            String cls = f.getMethod().getType().getName();
            if (!cls.startsWith("java.") && !cls.startsWith("jdk.") && !cls.startsWith("sun.")) {
                return frame(f) + ":" + f.getLineNumber();
            }
        }
        return frame(st.getFrames().get(0));
    }

    private static String percentages(Map<String, Integer> counts, int total) {
        StringBuilder sb = new StringBuilder();
        counts.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue())
              .forEach(e -> sb.append(sb.length() == 0 ? "" : ", ").append(e.getKey())
                              .append(String.format(" %.0f%%", 100.0 * e.getValue() / Math.max(1, total))));
        return sb.toString();
    }

    private static void printTop(Map<String, Integer> counts, int total, PrintStream out) {
        List<Map.Entry<String, Integer>> sorted = new ArrayList<>(counts.entrySet());
        sorted.sort((a, b) -> b.getValue() - a.getValue());
        for (Map.Entry<String, Integer> e : sorted.subList(0, Math.min(TOP, sorted.size()))) {
            out.printf("  %5.1f%%  %6d  %s%n", 100.0 * e.getValue() / Math.max(1, total), e.getValue(), e.getKey());
        }
    }

    private static void exec(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed:\n" + output);
        }
    }
}
