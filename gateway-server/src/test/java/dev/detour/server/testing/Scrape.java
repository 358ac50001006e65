package dev.detour.server.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A parsed Prometheus text-format scrape: each sample's name, labels and value, to assert exact series.
 * Comment lines ({@code # HELP}, {@code # TYPE}) are skipped.
 */
public final class Scrape {

    private final List<Sample> samples;
    private final String text;

    private Scrape(String text, List<Sample> samples) {
        this.text = text;
        this.samples = samples;
    }

    /** Parses {@code text}, failing on a line that is not a well-formed sample. */
    public static Scrape parse(String text) {
        List<Sample> samples = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            samples.add(sample(line));
        }
        return new Scrape(text, samples);
    }

    /** Returns every sample. */
    public List<Sample> samples() {
        return samples;
    }

    /** Returns the text as scraped. */
    public String text() {
        return text;
    }

    /**
     * Returns the value of the sample named {@code name} whose labels are exactly {@code labels} (name, value,
     * name, value, ...), or {@code null} when there is none.
     */
    public Double value(String name, String... labels) {
        Map<String, String> wanted = labels(labels);
        for (Sample s : samples) {
            if (s.name().equals(name) && s.labels().equals(wanted)) {
                return s.value();
            }
        }
        return null;
    }

    /** Returns the sum of the samples named {@code name} that have at least {@code labels}; 0 when none. */
    public double sum(String name, String... labels) {
        Map<String, String> wanted = labels(labels);
        double sum = 0;
        for (Sample s : samples) {
            if (s.name().equals(name) && s.labels().entrySet().containsAll(wanted.entrySet())) {
                sum += s.value();
            }
        }
        return sum;
    }

    /** Returns the samples named {@code name}. */
    public List<Sample> named(String name) {
        List<Sample> out = new ArrayList<>();
        for (Sample s : samples) {
            if (s.name().equals(name)) {
                out.add(s);
            }
        }
        return out;
    }

    private static Map<String, String> labels(String... pairs) {
        if (pairs.length % 2 != 0) {
            throw new IllegalArgumentException("labels: expected name, value pairs");
        }
        Map<String, String> m = new TreeMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m;
    }

    private static Sample sample(String line) {
        int brace = line.indexOf('{');
        int space = line.indexOf(' ');
        Map<String, String> labels = new TreeMap<>();
        String name;
        int at;
        if (brace >= 0 && (space < 0 || brace < space)) {
            name = line.substring(0, brace);
            at = brace + 1;
            while (line.charAt(at) != '}') {
                int eq = line.indexOf('=', at);
                String label = line.substring(at, eq);
                if (line.charAt(eq + 1) != '"') {
                    throw new IllegalArgumentException("unquoted label value in: " + line);
                }
                StringBuilder value = new StringBuilder();
                int i = eq + 2;
                for (; line.charAt(i) != '"'; i++) {
                    char c = line.charAt(i);
                    if (c == '\\') {
                        char next = line.charAt(++i);
                        value.append(next == 'n' ? '\n' : next);
                    } else {
                        value.append(c);
                    }
                }
                labels.put(label, value.toString());
                at = i + 1;
                if (line.charAt(at) == ',') {
                    at++;
                }
            }
            at++;
        } else {
            name = line.substring(0, space);
            at = space;
        }
        String[] rest = line.substring(at).trim().split(" ");
        String v = rest[0];
        double value = v.equals("+Inf") ? Double.POSITIVE_INFINITY
                : v.equals("-Inf") ? Double.NEGATIVE_INFINITY : Double.parseDouble(v);
        return new Sample(name, labels, value);
    }

    /** One sample line. */
    public record Sample(String name, Map<String, String> labels, double value) {
    }
}
