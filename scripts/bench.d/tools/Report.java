import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns the measurement lines of {@link Bench} into tables: every cell is the median over the runs
 * with the spread (min–max) in parentheses. Ratios and added latencies are computed per run (Detour's
 * run n against nginx's and direct's run n, measured back to back) before taking the median.
 */
final class Report {

    private static final String DIRECT = "direct";
    private static final String NGINX = "nginx";

    private final Map<String, String> labels = new LinkedHashMap<>();
    /** scenario → target → rows in run order. */
    private final Map<String, Map<String, List<Map<String, String>>>> rows = new LinkedHashMap<>();
    private final List<String> out = new ArrayList<>();
    private final boolean markdown;

    private Report(boolean markdown) {
        this.markdown = markdown;
    }

    static void print(Path in, Path md) throws IOException {
        List<String> lines = Files.readAllLines(in);
        Report text = new Report(false);
        text.load(lines);
        text.render();
        text.out.forEach(System.out::println);
        if (md != null) {
            Report m = new Report(true);
            m.load(lines);
            m.render();
            Files.write(md, m.out, StandardCharsets.UTF_8);
        }
    }

    private void load(List<String> lines) {
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            Map<String, String> kv = new LinkedHashMap<>();
            for (String part : line.split("\t")) {
                int eq = part.indexOf('=');
                if (eq > 0) {
                    kv.put(part.substring(0, eq), part.substring(eq + 1));
                }
            }
            if (line.startsWith("#target")) {
                labels.putIfAbsent(kv.get("name"), kv.get("label"));
                continue;
            }
            if (line.startsWith("#")) {
                continue;
            }
            rows.computeIfAbsent(kv.get("scenario"), k -> new LinkedHashMap<>())
                .computeIfAbsent(kv.get("target"), k -> new ArrayList<>()).add(kv);
        }
    }

    private void render() {
        throughput();
        for (String s : List.of("rate500", "rate2000", "rate8000")) {
            rate(s);
        }
        stream();
        paced();
        slow();
        memory();
        verdicts();
        noiseWarning();
        quietRows();
    }

    /**
     * Lists the measurements other programs did not disturb (less than {@link Bench#QUIET_PCT} of a
     * CPU), when some were: on a busy machine they are the figures to trust.
     */
    private void quietRows() {
        List<String[]> t = new ArrayList<>();
        t.add(new String[] {"scenario", "target", "run", "req/s", "p50", "p99", "p99.9", "TTFB p50", "lag p50",
                            "lag p99", "CPU µs/req", "other CPU %"});
        int noisy = 0;
        for (Map.Entry<String, Map<String, List<Map<String, String>>>> s : rows.entrySet()) {
            for (Map.Entry<String, List<Map<String, String>>> byTarget : s.getValue().entrySet()) {
                for (Map<String, String> r : byTarget.getValue()) {
                    if (!r.containsKey("noise_pct")) {
                        continue;
                    }
                    if (Double.parseDouble(r.get("noise_pct")) >= Bench.QUIET_PCT) {
                        noisy++;
                        continue;
                    }
                    t.add(new String[] {s.getKey(), label(byTarget.getKey()), r.get("run"),
                                        r.containsKey("rps") ? fmt(Double.parseDouble(r.get("rps")), 0) : "",
                                        msOf(r, "p50_us"), msOf(r, "p99_us"), msOf(r, "p999_us"),
                                        msOf(r, "ttfb_p50_us"), msOf(r, "lag_p50_us"), msOf(r, "lag_p99_us"),
                                        r.containsKey("cpu_us_per_req")
                                        ? fmt(Double.parseDouble(r.get("cpu_us_per_req")), 1) : "",
                                        fmt(Double.parseDouble(r.get("noise_pct")), 0)});
                }
            }
        }
        if (noisy == 0 || t.size() == 1) {
            return;
        }
        title("Undisturbed measurements only (other programs below " + fmt(Bench.QUIET_PCT, 0)
              + "% of a CPU); latencies in ms (throughput rows: wrk's closed-loop latency)");
        table(t);
    }

    private static String msOf(Map<String, String> r, String key) {
        String v = r.get(key);
        return v == null || v.isEmpty() ? "" : fmt(Double.parseDouble(v) / 1000, 3);
    }

    // ---------------------------------------------------------------------------------------------
    // Tables

    private void throughput() {
        Map<String, List<Map<String, String>>> s = rows.get("throughput");
        if (s == null) {
            return;
        }
        title("Throughput: closed loop, wrk -t1 -c" + Bench.WRK_CONNECTIONS + ", keep-alive, 1 KB request, 680 B answer");
        List<String[]> t = new ArrayList<>();
        t.add(new String[] {"target", "req/s", "vs nginx-proxy", "vs direct", "CPU µs/req", "CPU s/10k req",
                            "errors", "other CPU %"});
        for (String target : s.keySet()) {
            t.add(new String[] {label(target), cell(s.get(target), "rps", 0, 1),
                                ratio("throughput", target, NGINX, "rps"), ratio("throughput", target, DIRECT, "rps"),
                                cell(s.get(target), "cpu_us_per_req", 1, 1),
                                cell(s.get(target), "cpu_us_per_req", 3, 0.01), errors(s.get(target)),
                                noise(s.get(target))});
        }
        table(t);
    }

    private void rate(String scenario) {
        Map<String, List<Map<String, String>>> s = rows.get(scenario);
        if (s == null) {
            return;
        }
        title("Latency at " + scenario.substring(4) + " req/s: open loop, 64 connections, ms from the scheduled "
              + "send time");
        List<String[]> t = new ArrayList<>();
        t.add(new String[] {"target", "p50", "p90", "p99", "p99.9", "added p50", "added p99", "added p99.9",
                            "CPU µs/req", "errors", "other CPU %"});
        for (String target : s.keySet()) {
            List<Map<String, String>> r = s.get(target);
            boolean ref = target.equals(DIRECT);
            t.add(new String[] {label(target), ms(r, "p50_us"), ms(r, "p90_us"), ms(r, "p99_us"), ms(r, "p999_us"),
                                ref ? "" : added(scenario, target, "p50_us"), ref ? "" : added(scenario, target, "p99_us"),
                                ref ? "" : added(scenario, target, "p999_us"), cell(r, "cpu_us_per_req", 1, 1),
                                errors(r), noise(r)});
        }
        table(t);
    }

    private void stream() {
        Map<String, List<Map<String, String>>> s = rows.get("stream");
        if (s == null) {
            return;
        }
        title("Streaming: 500 streams/s, open loop, 20 chunk events + [DONE] (6.2 KB) from nginx; ms");
        List<String[]> t = new ArrayList<>();
        t.add(new String[] {"target", "TTFB p50", "TTFB p99", "total p50", "total p99", "added TTFB p50",
                            "added TTFB p99", "added total p50", "CPU µs/stream", "errors", "other CPU %"});
        for (String target : s.keySet()) {
            List<Map<String, String>> r = s.get(target);
            boolean ref = target.equals(DIRECT);
            t.add(new String[] {label(target), ms(r, "ttfb_p50_us"), ms(r, "ttfb_p99_us"), ms(r, "p50_us"),
                                ms(r, "p99_us"), ref ? "" : added("stream", target, "ttfb_p50_us"),
                                ref ? "" : added("stream", target, "ttfb_p99_us"),
                                ref ? "" : added("stream", target, "p50_us"), cell(r, "cpu_us_per_req", 1, 1),
                                errors(r), noise(r)});
        }
        table(t);
    }

    private void paced() {
        Map<String, List<Map<String, String>>> s = rows.get("paced");
        if (s == null) {
            return;
        }
        title("Chunk relay: 50 streams/s, the upstream sends event k at (k+1) × " + Bench.PACED_INTERVAL_MS
              + " ms; lag = arrival − (send + (k+1) × " + Bench.PACED_INTERVAL_MS + " ms); ms");
        List<String[]> t = new ArrayList<>();
        t.add(new String[] {"target", "first event p50", "lag p50", "lag p99", "lag max", "added lag p50",
                            "added lag p99", "events/stream (min)", "errors", "other CPU %"});
        for (String target : s.keySet()) {
            List<Map<String, String>> r = s.get(target);
            boolean ref = target.equals(DIRECT);
            t.add(new String[] {label(target), ms(r, "ttfb_p50_us"), ms(r, "lag_p50_us"), ms(r, "lag_p99_us"),
                                ms(r, "lag_max_us"), ref ? "" : added("paced", target, "lag_p50_us"),
                                ref ? "" : added("paced", target, "lag_p99_us"), cell(r, "min_events", 0, 1),
                                errors(r), noise(r)});
        }
        table(t);
    }

    private void slow() {
        Map<String, List<Map<String, String>>> s = rows.get("slow");
        if (s == null) {
            return;
        }
        title("Upstream with 50 ms latency: 1,000 req/s open loop (~50 in flight), 128 connections; ms");
        List<String[]> t = new ArrayList<>();
        t.add(new String[] {"target", "p50", "p99", "p99.9", "max", "added p50", "added p99", "CPU µs/req",
                            "errors", "other CPU %"});
        for (String target : s.keySet()) {
            List<Map<String, String>> r = s.get(target);
            boolean ref = target.equals(DIRECT);
            t.add(new String[] {label(target), ms(r, "p50_us"), ms(r, "p99_us"), ms(r, "p999_us"), ms(r, "max_us"),
                                ref ? "" : added("slow", target, "p50_us"), ref ? "" : added("slow", target, "p99_us"),
                                cell(r, "cpu_us_per_req", 1, 1), errors(r), noise(r)});
        }
        table(t);
    }

    private void memory() {
        Map<String, List<Map<String, String>>> s = rows.get("memory");
        if (s == null) {
            return;
        }
        title("Memory of the proxy process (all its processes for nginx)");
        List<String[]> t = new ArrayList<>();
        t.add(new String[] {"target", "peak RSS (VmHWM) MB", "RSS at end MB"});
        for (String target : s.keySet()) {
            Map<String, String> r = s.get(target).get(s.get(target).size() - 1);
            t.add(new String[] {label(target), mb(r.get("peak_rss_kb")), mb(r.get("rss_kb"))});
        }
        table(t);
    }

    private void verdicts() {
        List<String> gateways = new ArrayList<>();
        for (String name : labels.keySet()) {
            if (!name.equals(DIRECT) && !name.equals(NGINX)) {
                gateways.add(name);
            }
        }
        if (gateways.isEmpty() || !labels.containsKey(NGINX)) {
            return;
        }
        title("Issue 8 targets");
        List<String[]> t = new ArrayList<>();
        t.add(new String[] {"target", "goal", "measured (median, min–max)", "verdict"});
        for (String g : gateways) {
            double[] thr = perRun("throughput", g, NGINX, "rps", (a, b) -> a / b);
            if (thr.length > 0) {
                t.add(row(g, "throughput ≥ 0.85 × nginx-proxy", spread(thr, 2) + " ×", median(thr) >= 0.85));
            }
            double[] addG = perRun("rate2000", g, DIRECT, "p99_us", (a, b) -> a - b);
            double[] addN = perRun("rate2000", NGINX, DIRECT, "p99_us", (a, b) -> a - b);
            if (addG.length > 0 && addN.length > 0) {
                double mg = median(addG) / 1000;
                double mn = median(addN) / 1000;
                t.add(row(g, "added p99 at 2,000 req/s < 1 ms", spread(scale(addG, 0.001), 3) + " ms", mg < 1));
                t.add(row(g, "added p99 at 2,000 req/s ≤ 1.5 × nginx-proxy's",
                          fmt(mg, 3) + " ms vs " + fmt(mn, 3) + " ms = " + fmt(mg / mn, 2) + " ×", mg <= 1.5 * mn));
            }
            double[] cpu = perRun("throughput", g, NGINX, "cpu_us_per_req", (a, b) -> a / b);
            if (cpu.length > 0) {
                t.add(row(g, "CPU per request ≤ 2 × nginx-proxy's (at max throughput)", spread(cpu, 2) + " ×",
                          median(cpu) <= 2));
            }
            double[] cpu2k = perRun("rate2000", g, NGINX, "cpu_us_per_req", (a, b) -> a / b);
            if (cpu2k.length > 0) {
                t.add(row(g, "CPU per request ≤ 2 × nginx-proxy's (at 2,000 req/s)", spread(cpu2k, 2) + " ×",
                          median(cpu2k) <= 2));
            }
            double[] ttfb = perRun("stream", g, DIRECT, "ttfb_p50_us", (a, b) -> a - b);
            if (ttfb.length > 0) {
                t.add(row(g, "streaming added TTFB p50 < 0.5 ms", spread(scale(ttfb, 0.001), 3) + " ms",
                          median(ttfb) < 500));
            }
            double[] lag = perRun("paced", g, DIRECT, "lag_p50_us", (a, b) -> a - b);
            if (lag.length > 0) {
                // Holding chunks back would add up to the whole stream (20 × interval) to the lag of
                // most events, so the median shows it; the p99 is left to the tables, because late
                // wake-ups of an idle CPU reach it for any proxy.
                t.add(row(g, "chunks relayed as they arrive (added lag p50 < 1 ms, all events seen)",
                          spread(scale(lag, 0.001), 3) + " ms", median(lag) < 1000 && allEvents(g)));
            }
            Map<String, List<Map<String, String>>> mem = rows.get("memory");
            if (mem != null && mem.containsKey(g)) {
                double mb = Double.parseDouble(mem.get(g).get(0).get("peak_rss_kb")) / 1024;
                t.add(row(g, "peak RSS under load ≤ 300 MB", fmt(mb, 0) + " MB", mb <= 300));
            }
        }
        table(t);
    }

    private boolean allEvents(String target) {
        Map<String, List<Map<String, String>>> s = rows.get("paced");
        for (Map<String, String> r : s.get(target)) {
            if (Long.parseLong(r.getOrDefault("min_events", "0")) < Bench.PACED_EVENTS) {
                return false;
            }
        }
        return true;
    }

    private String[] row(String target, String goal, String measured, boolean ok) {
        return new String[] {label(target), goal, measured, ok ? "met" : "NOT MET"};
    }

    // ---------------------------------------------------------------------------------------------
    // Cells

    interface Op {
        double apply(double a, double b);
    }

    /** Returns op(target's value, reference's value) for every run both have. */
    private double[] perRun(String scenario, String target, String reference, String key, Op op) {
        Map<String, List<Map<String, String>>> s = rows.get(scenario);
        if (s == null || !s.containsKey(target) || !s.containsKey(reference)) {
            return new double[0];
        }
        Map<String, Double> refByRun = new LinkedHashMap<>();
        for (Map<String, String> r : s.get(reference)) {
            if (r.containsKey(key)) {
                refByRun.put(r.get("run"), Double.parseDouble(r.get(key)));
            }
        }
        List<Double> v = new ArrayList<>();
        for (Map<String, String> r : s.get(target)) {
            Double ref = refByRun.get(r.get("run"));
            if (ref != null && r.containsKey(key)) {
                v.add(op.apply(Double.parseDouble(r.get(key)), ref));
            }
        }
        return v.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private String ratio(String scenario, String target, String reference, String key) {
        if (target.equals(reference)) {
            return "";
        }
        double[] v = perRun(scenario, target, reference, key, (a, b) -> a / b);
        return v.length == 0 ? "" : spread(v, 2) + " ×";
    }

    private String added(String scenario, String target, String key) {
        double[] v = perRun(scenario, target, DIRECT, key, (a, b) -> a - b);
        return v.length == 0 ? "" : spread(scale(v, 0.001), 3);
    }

    private static String ms(List<Map<String, String>> runs, String key) {
        return cell(runs, key, 3, 0.001);
    }

    private static String cell(List<Map<String, String>> runs, String key, int decimals, double scale) {
        double[] v = runs.stream().filter(r -> r.containsKey(key))
                         .mapToDouble(r -> Double.parseDouble(r.get(key)) * scale).toArray();
        return v.length == 0 ? "" : spread(v, decimals);
    }

    /** Returns the CPU other programs used during the runs, in % of one CPU: median (max). */
    private static String noise(List<Map<String, String>> runs) {
        double[] v = runs.stream().filter(r -> r.containsKey("noise_pct"))
                         .mapToDouble(r -> Double.parseDouble(r.get("noise_pct"))).toArray();
        if (v.length == 0) {
            return "";
        }
        return fmt(median(v), 0) + " (" + fmt(Arrays.stream(v).max().getAsDouble(), 0) + ")";
    }

    private void noiseWarning() {
        int noisy = 0;
        int total = 0;
        double worst = 0;
        for (Map<String, List<Map<String, String>>> byTarget : rows.values()) {
            for (List<Map<String, String>> runs : byTarget.values()) {
                for (Map<String, String> r : runs) {
                    if (r.containsKey("noise_pct")) {
                        double n = Double.parseDouble(r.get("noise_pct"));
                        total++;
                        worst = Math.max(worst, n);
                        if (n >= 10) {
                            noisy++;
                        }
                    }
                }
            }
        }
        out.add("");
        if (noisy == 0) {
            out.add("Other programs used less than 10% of a CPU during every measurement (worst: " + fmt(worst, 0)
                    + "%).");
        } else {
            out.add("WARNING: other programs used 10% of a CPU or more during " + noisy + " of " + total
                    + " measurements (worst: " + fmt(worst, 0) + "%); those figures, tail latencies above all, are "
                    + "unreliable. Rerun on a quiet machine.");
        }
    }

    private static String errors(List<Map<String, String>> runs) {
        long e = 0;
        boolean saturated = false;
        for (Map<String, String> r : runs) {
            e += Long.parseLong(r.getOrDefault("errors", "0"));
            saturated |= Boolean.parseBoolean(r.getOrDefault("saturated", "false"));
        }
        return e + (saturated ? " (saturated)" : "");
    }

    private static String spread(double[] v, int decimals) {
        if (v.length == 1) {
            return fmt(v[0], decimals);
        }
        double[] s = v.clone();
        Arrays.sort(s);
        return fmt(median(s), decimals) + " (" + fmt(s[0], decimals) + "–" + fmt(s[s.length - 1], decimals) + ")";
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static double[] scale(double[] v, double f) {
        return Arrays.stream(v).map(x -> x * f).toArray();
    }

    private static String mb(String kb) {
        return kb == null ? "" : fmt(Double.parseDouble(kb) / 1024, 0);
    }

    static String fmt(double v, int decimals) {
        if (decimals == 0) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    private String label(String target) {
        return labels.getOrDefault(target, target);
    }

    // ---------------------------------------------------------------------------------------------
    // Rendering

    private void title(String title) {
        out.add("");
        out.add(markdown ? "#### " + title : "== " + title);
        out.add("");
    }

    private void table(List<String[]> t) {
        int cols = t.get(0).length;
        if (markdown) {
            for (int i = 0; i < t.size(); i++) {
                out.add("| " + String.join(" | ", t.get(i)) + " |");
                if (i == 0) {
                    out.add("|" + "---|".repeat(cols));
                }
            }
            return;
        }
        int[] w = new int[cols];
        for (String[] r : t) {
            for (int c = 0; c < cols; c++) {
                w[c] = Math.max(w[c], r[c].length());
            }
        }
        for (String[] r : t) {
            StringBuilder sb = new StringBuilder();
            for (int c = 0; c < cols; c++) {
                String cellText = r[c];
                sb.append(c == 0 ? String.format("%-" + w[c] + "s", cellText) : String.format("%" + w[c] + "s", cellText));
                sb.append(c == cols - 1 ? "" : "  ");
            }
            out.add(sb.toString());
        }
    }

    // ---------------------------------------------------------------------------------------------
    // JMH

    /** Prints ns/op and gc.alloc.rate.norm (B/op) from JMH's CSV result file. */
    static void jmh(Path csv) throws IOException {
        List<String> lines = Files.readAllLines(csv);
        if (lines.isEmpty()) {
            throw new IOException(csv + " is empty");
        }
        List<String> header = splitCsv(lines.get(0));
        int bench = header.indexOf("Benchmark");
        int score = header.indexOf("Score");
        int error = header.indexOf("Score Error (99.9%)");
        int unit = header.indexOf("Unit");
        List<Integer> params = new ArrayList<>();
        for (int i = 0; i < header.size(); i++) {
            if (header.get(i).startsWith("Param: ")) {
                params.add(i);
            }
        }
        Map<String, String[]> byKey = new LinkedHashMap<>(); // key → {name, params, ns/op, ±, B/op}
        for (String line : lines.subList(1, lines.size())) {
            List<String> f = splitCsv(line);
            String name = f.get(bench);
            StringBuilder p = new StringBuilder();
            for (int i : params) {
                if (!f.get(i).isEmpty()) {
                    p.append(p.length() == 0 ? "" : ", ").append(header.get(i).substring(7)).append('=').append(f.get(i));
                }
            }
            int colon = name.indexOf(':');
            String base = colon < 0 ? name : name.substring(0, colon);
            String key = base + "|" + p;
            String[] row = byKey.computeIfAbsent(key, k -> new String[] {shortName(base), p.toString(), "", "", ""});
            if (colon < 0) {
                row[2] = fmt(Double.parseDouble(f.get(score)), 1) + " " + f.get(unit);
                row[3] = f.get(error).isEmpty() || f.get(error).equals("NaN") ? ""
                        : "± " + fmt(Double.parseDouble(f.get(error)), 1);
            } else if (name.endsWith("gc.alloc.rate.norm")) {
                row[4] = fmt(Double.parseDouble(f.get(score)), 0);
            }
        }
        Report r = new Report(false);
        List<String[]> t = new ArrayList<>();
        t.add(new String[] {"benchmark", "params", "time", "error (99.9%)", "alloc B/op"});
        t.addAll(byKey.values());
        r.table(t);
        r.out.forEach(System.out::println);
        Report m = new Report(true);
        m.table(t);
        Path md = csv.resolveSibling(csv.getFileName().toString().replaceAll("\\.csv$", "") + ".md");
        Files.write(md, m.out, StandardCharsets.UTF_8);
    }

    private static String shortName(String fqcn) {
        String[] parts = fqcn.split("\\.");
        return parts.length >= 2 ? parts[parts.length - 2] + "." + parts[parts.length - 1] : fqcn;
    }

    private static List<String> splitCsv(String line) {
        List<String> f = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '"') {
                if (quoted && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cur.append('"');
                    i++;
                } else {
                    quoted = !quoted;
                }
            } else if (c == ',' && !quoted) {
                f.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        f.add(cur.toString());
        return f;
    }
}
