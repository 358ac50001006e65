package dev.detour.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * A node of the composed YAML tree together with its config path, read as one expected type.
 *
 * <p>Every conversion reports what is wrong to the shared {@link Context} and returns empty instead of
 * throwing, so one pass over the file finds every problem. Scalars go through {@link EnvSubstitution}
 * before they are interpreted, so {@code port: ${PORT:-8080}} is an integer. Conversions read the text
 * of a scalar, never the tag SnakeYAML's YAML 1.1 resolver guessed: {@code yes} is not a boolean,
 * {@code 0x10} not an integer and {@code 1:30} not a number of seconds.
 */
final class YamlNode {

    private static final Pattern INTEGER = Pattern.compile("[+-]?[0-9]+");
    private static final Pattern SIMPLE_KEY = Pattern.compile("[A-Za-z0-9_-]+");
    private static final int MAX_SHOWN_LENGTH = 60;

    /** Returns the root of a document; an empty document reads as a null scalar at line 1, column 1. */
    static YamlNode root(Node node, Context context) {
        if (node != null) {
            return new YamlNode(node, "", context);
        }
        Mark start = new Mark(context.source(), 0, 0, 0, new int[0], 0);
        return new YamlNode(new ScalarNode(Tag.NULL, "", start, start, DumperOptions.ScalarStyle.PLAIN), "", context);
    }

    private final Node node;
    private final String path;
    private final Context context;

    YamlNode(Node node, String path, Context context) {
        this.node = Objects.requireNonNull(node, "node");
        this.path = Objects.requireNonNull(path, "path");
        this.context = Objects.requireNonNull(context, "context");
    }

    /** Returns the config path of this node, e.g. {@code routes[0].targets[1].provider}. */
    String path() {
        return path;
    }

    /** Returns the 1-based line this node starts on. */
    int line() {
        return node.getStartMark().getLine() + 1;
    }

    Context context() {
        return context;
    }

    /** Returns whether the node is an explicit or implicit YAML null ({@code key:}, {@code ~}, {@code null}). */
    boolean isNull() {
        return node instanceof ScalarNode scalar && scalar.isPlain() && Tag.NULL.equals(scalar.getTag());
    }

    /** Records a problem at this node's position. */
    void report(String message) {
        context.add(node, path, message);
    }

    /** Records a problem about the nested field {@code dottedPath} (which may be absent) at this node's position. */
    void reportNested(String dottedPath, String message) {
        context.add(node, path.isEmpty() ? dottedPath : path + "." + dottedPath, message);
    }

    /** Records a problem about the child {@code key} (which may be absent) at this node's position. */
    void reportChild(String key, String message) {
        context.add(node, childPath(key), message);
    }

    /** Returns the path of the child {@code key}; keys other than plain words are quoted. */
    String childPath(String key) {
        String segment = SIMPLE_KEY.matcher(key).matches()
                ? key
                : "[\"" + key.replace("\\", "\\\\").replace("\"", "\\\"") + "\"]";
        if (path.isEmpty()) {
            return segment;
        }
        return segment.startsWith("[") ? path + segment : path + "." + segment;
    }

    YamlNode child(Node child, String key) {
        return new YamlNode(child, childPath(key), context);
    }

    /**
     * Returns this node as a mapping. A null node is an empty mapping (an empty section); any other
     * non-mapping is reported and also read as empty. Keys outside {@code knownKeys} are reported unless
     * {@code knownKeys} is empty, which means the keys are names chosen by the user.
     */
    YamlMapping asMapping(String... knownKeys) {
        return YamlMapping.of(this, node instanceof MappingNode mapping ? mapping : null, List.of(knownKeys));
    }

    /** Returns the elements of a list; a null node is an empty list, anything else is reported. */
    Optional<List<YamlNode>> asList() {
        if (isNull()) {
            return Optional.of(List.of());
        }
        if (!(node instanceof SequenceNode sequence)) {
            report("expected a list, got " + describe());
            return Optional.empty();
        }
        List<YamlNode> elements = new ArrayList<>(sequence.getValue().size());
        for (Node element : sequence.getValue()) {
            elements.add(new YamlNode(element, path + "[" + elements.size() + "]", context));
        }
        return Optional.of(elements);
    }

    /** Returns the scalar's text after substitution; numbers and booleans are read as their text. */
    Optional<String> string() {
        return scalar("a string").map(Scalar::value);
    }

    /** Returns a string that is not empty or blank. */
    Optional<String> nonBlankString() {
        Optional<Scalar> scalar = scalar("a non-empty string");
        if (scalar.isPresent() && scalar.get().value().isBlank()) {
            report("expected a non-empty string, got " + scalar.get().shown());
            return Optional.empty();
        }
        return scalar.map(Scalar::value);
    }

    /** Returns an integer from {@code min} to {@code max}, both inclusive. */
    Optional<Integer> integer(int min, int max) {
        String expected = max == Integer.MAX_VALUE
                ? "an integer >= " + min
                : "an integer from " + min + " to " + max;
        Optional<Scalar> scalar = scalar(expected);
        if (scalar.isEmpty()) {
            return Optional.empty();
        }
        String text = scalar.get().value();
        if (INTEGER.matcher(text).matches()) {
            try {
                long value = Long.parseLong(text);
                if (value >= min && value <= max) {
                    return Optional.of((int) value);
                }
            } catch (NumberFormatException e) {
                // Too many digits for a long: certainly out of range, reported below.
            }
        }
        report("expected " + expected + ", got " + scalar.get().shown());
        return Optional.empty();
    }

    /** Returns {@code true} or {@code false}; YAML 1.1's {@code yes}, {@code on} and friends are refused. */
    Optional<Boolean> bool() {
        Optional<Scalar> scalar = scalar("true or false");
        if (scalar.isEmpty()) {
            return Optional.empty();
        }
        String text = scalar.get().value();
        if (text.equals("true") || text.equals("false")) {
            return Optional.of(Boolean.parseBoolean(text));
        }
        report("expected true or false, got " + scalar.get().shown());
        return Optional.empty();
    }

    /** Returns a duration in {@link DurationFormat}. */
    Optional<Duration> duration() {
        Optional<Scalar> scalar = scalar("a duration such as 500ms, 30s, 5m, 1h or 1m30s");
        if (scalar.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(DurationFormat.parse(scalar.get().value()));
        } catch (IllegalArgumentException e) {
            report(e.getMessage() + scalar.get().origin());
            return Optional.empty();
        }
    }

    /** Returns a size in {@link SizeFormat}, in bytes from {@code min} to {@code max}. */
    Optional<Long> size(long min, long max) {
        Optional<Scalar> scalar = scalar("a size such as 16MiB, 512KiB, 1GiB, 100B or a number of bytes");
        if (scalar.isEmpty()) {
            return Optional.empty();
        }
        long bytes;
        try {
            bytes = SizeFormat.parse(scalar.get().value());
        } catch (IllegalArgumentException e) {
            report(e.getMessage() + scalar.get().origin());
            return Optional.empty();
        }
        if (bytes < min || bytes > max) {
            report("expected a size from " + min + " to " + max + " bytes, got " + scalar.get().shown());
            return Optional.empty();
        }
        return Optional.of(bytes);
    }

    /** Returns the value {@code choices} maps the text to; the message lists the keys in their order. */
    <T> Optional<T> oneOf(Map<String, T> choices) {
        String expected = alternatives(List.copyOf(choices.keySet()));
        Optional<Scalar> scalar = scalar(expected);
        if (scalar.isEmpty()) {
            return Optional.empty();
        }
        T value = choices.get(scalar.get().value());
        if (value == null) {
            report("expected " + expected + ", got " + scalar.get().shown());
        }
        return Optional.ofNullable(value);
    }

    /** Returns {@code a}, {@code a or b}, {@code a, b or c}. */
    static String alternatives(List<String> names) {
        if (names.size() == 1) {
            return names.get(0);
        }
        return String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
    }

    /** Returns how the node reads in a message: {@code 'text'}, {@code nothing}, {@code a mapping}, {@code a list}. */
    String describe() {
        if (isNull()) {
            return "nothing";
        }
        if (node instanceof ScalarNode scalar) {
            return quote(scalar.getValue());
        }
        return node instanceof MappingNode ? "a mapping" : "a list";
    }

    static String quote(String text) {
        String shown = text.length() > MAX_SHOWN_LENGTH ? text.substring(0, MAX_SHOWN_LENGTH - 3) + "..." : text;
        return "'" + shown + "'";
    }

    /**
     * Returns the node as a plain JSON-like value: {@code String}, {@code Long}, {@code Double},
     * {@code Boolean}, {@code List} or {@code Map} (keys in order); a null is reported. Plain scalars keep
     * their YAML type; quoted ones and substituted ones are strings.
     */
    Optional<Object> plainValue() {
        if (node instanceof MappingNode) {
            YamlMapping m = asMapping();
            Map<String, Object> values = new java.util.LinkedHashMap<>();
            boolean ok = true;
            for (YamlMapping.Entry entry : m.entries()) {
                Optional<Object> v = entry.value().plainValue();
                ok &= v.isPresent();
                v.ifPresent(value -> values.put(entry.name(), value));
            }
            return ok ? Optional.of(values) : Optional.empty();
        }
        if (node instanceof SequenceNode) {
            List<Object> values = new ArrayList<>();
            boolean ok = true;
            for (YamlNode element : asList().orElseGet(List::of)) {
                Optional<Object> v = element.plainValue();
                ok &= v.isPresent();
                v.ifPresent(values::add);
            }
            return ok ? Optional.of(values) : Optional.empty();
        }
        if (isNull()) {
            report("expected a value, got nothing (to leave a field as the client sent it, leave it out)");
            return Optional.empty();
        }
        ScalarNode scalarNode = (ScalarNode) node;
        Optional<Scalar> scalar = scalar("a value");
        if (scalar.isEmpty()) {
            return Optional.empty();
        }
        if (!scalarNode.isPlain() || !scalar.get().raw().equals(scalar.get().value())) {
            return Optional.of(scalar.get().value());
        }
        String text = scalar.get().value();
        try {
            if (Tag.INT.equals(scalarNode.getTag())) {
                return Optional.of(Long.parseLong(text.replace("_", "")));
            }
            if (Tag.FLOAT.equals(scalarNode.getTag())) {
                return Optional.of(Double.parseDouble(text.replace("_", "")));
            }
        } catch (NumberFormatException e) {
            return Optional.of(text); // YAML 1.1 spellings (0x1F, 1:30) Java does not read: keep the text
        }
        if (Tag.BOOL.equals(scalarNode.getTag()) && (text.equals("true") || text.equals("false"))) {
            return Optional.of(Boolean.parseBoolean(text));
        }
        return Optional.of(text);
    }

    /** Returns a fraction from 0 (exclusive) to 1: {@code 0.5} or {@code 50%}. */
    Optional<Double> fraction() {
        Optional<Scalar> scalar = scalar("a fraction such as 0.5 or 50%");
        if (scalar.isEmpty()) {
            return Optional.empty();
        }
        String text = scalar.get().value().trim();
        try {
            double value = text.endsWith("%")
                    ? Double.parseDouble(text.substring(0, text.length() - 1).trim()) / 100
                    : Double.parseDouble(text);
            if (value > 0 && value <= 1) {
                return Optional.of(value);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        report("expected a fraction above 0 and at most 1, such as 0.5 or 50%, got " + scalar.get().shown());
        return Optional.empty();
    }

    private Optional<Scalar> scalar(String expected) {
        if (isNull() || !(node instanceof ScalarNode scalar)) {
            report("expected " + expected + ", got " + describe());
            return Optional.empty();
        }
        String raw = scalar.getValue();
        EnvSubstitution.Result substituted = EnvSubstitution.apply(raw, context.env());
        if (!substituted.ok()) {
            substituted.errors().forEach(this::report);
            return Optional.empty();
        }
        return Optional.of(new Scalar(raw, substituted.value()));
    }

    /**
     * A scalar as written and after substitution.
     *
     * @param raw   the text in the file
     * @param value the text after {@code ${...}} substitution
     */
    private record Scalar(String raw, String value) {

        /** Returns the value for a message, saying where it came from when a variable supplied it. */
        String shown() {
            return quote(value) + origin();
        }

        String origin() {
            return raw.equals(value) ? "" : " (from " + quote(raw) + ")";
        }
    }

    /**
     * What one load shares between nodes: the source name, the environment and the problems found so far.
     * One per load, used on one thread.
     */
    static final class Context {

        private static final Comparator<ConfigProblem> BY_POSITION =
                Comparator.comparingInt(ConfigProblem::line).thenComparingInt(ConfigProblem::column);

        private final String source;
        private final Map<String, String> env;
        private final MappingObserver observer;
        private final List<ConfigProblem> problems = new ArrayList<>();

        Context(String source, Map<String, String> env, MappingObserver observer) {
            this.source = Objects.requireNonNull(source, "source");
            this.env = Objects.requireNonNull(env, "env");
            this.observer = Objects.requireNonNull(observer, "observer");
        }

        String source() {
            return source;
        }

        Map<String, String> env() {
            return env;
        }

        MappingObserver observer() {
            return observer;
        }

        void add(Node at, String path, String message) {
            Mark mark = at.getStartMark();
            problems.add(new ConfigProblem(source, mark.getLine() + 1, mark.getColumn() + 1, path, message));
        }

        /** Returns the problems in file order; problems at one position keep the order they were found in. */
        List<ConfigProblem> problems() {
            List<ConfigProblem> sorted = new ArrayList<>(problems);
            sorted.sort(BY_POSITION);
            return sorted;
        }
    }
}
