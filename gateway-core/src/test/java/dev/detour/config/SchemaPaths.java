package dev.detour.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Finds where a config path leads in a JSON schema (draft-07), and which fields the schema declares where.
 *
 * <p>A path is the binder's: {@code routes[0].targets[1]}, {@code providers.openai.keys[0]},
 * {@code headers["X-Id"]}. It is followed through {@code properties}, {@code items} and {@code additionalProperties}
 * (a mapping whose keys the user names), with {@code $ref}, {@code allOf}, {@code anyOf} and {@code oneOf} expanded.
 * {@code if}/{@code then}/{@code else} and {@code not} only restrict what is declared elsewhere, so they are not
 * followed. The result is named by a pattern: list indexes read {@code []} and user-named keys {@code *}, e.g.
 * {@code providers.*.keys[]}.
 */
final class SchemaPaths {

    private static final Pattern SIMPLE_KEY = Pattern.compile("[A-Za-z0-9_-]+");
    /** No config nests deeper than this; a deeper walk of the schema is a {@code $ref} cycle. */
    private static final int MAX_DEPTH = 32;

    private final JsonNode root;

    SchemaPaths(JsonNode root) {
        this.root = Objects.requireNonNull(root, "root");
    }

    /** Returns where {@code configPath} leads in the schema. */
    Resolution resolve(String configPath) {
        List<JsonNode> current = expand(root);
        StringBuilder pattern = new StringBuilder();
        for (Object segment : segments(configPath)) {
            if (segment instanceof Integer) {
                List<JsonNode> next = new ArrayList<>();
                for (JsonNode schema : current) {
                    if (schema.path("items").isObject()) {
                        next.addAll(expand(schema.get("items")));
                    }
                }
                if (next.isEmpty()) {
                    return Resolution.missing(pattern + "[]");
                }
                pattern.append("[]");
                current = next;
                continue;
            }
            String key = (String) segment;
            List<JsonNode> declared = new ArrayList<>();
            List<JsonNode> userNamed = new ArrayList<>();
            boolean closed = false;
            for (JsonNode schema : current) {
                JsonNode property = schema.path("properties").get(key);
                if (property != null) {
                    declared.addAll(expand(property));
                }
                JsonNode additional = schema.get("additionalProperties");
                if (additional != null && additional.isObject()) {
                    userNamed.addAll(expand(additional));
                }
                closed |= additional != null && additional.isBoolean() && !additional.booleanValue();
            }
            if (!declared.isEmpty()) {
                append(pattern, key);
                current = declared;
            } else if (!userNamed.isEmpty()) {
                append(pattern, "*");
                current = userNamed;
            } else if (closed) {
                return Resolution.missing(join(pattern.toString(), key));
            } else {
                // Nothing declared and nothing forbidden: any value goes here (a target's params), so does any path.
                return Resolution.open(join(pattern.toString(), key));
            }
        }
        return Resolution.found(pattern.toString(), current);
    }

    /**
     * Returns every place the schema declares fixed fields: pattern to the field names declared there, e.g.
     * {@code routes[].circuit-breaker} to {@code [failures, failure-rate, window, min-calls, open-for]}.
     */
    Map<String, Set<String>> declaredFields() {
        Map<String, Set<String>> fields = new TreeMap<>();
        collect(root, "", fields, 0);
        return fields;
    }

    /** Returns every {@code enum} value allowed for a scalar at {@code configPath}, over all its alternatives. */
    Set<String> enumValues(String configPath) {
        Resolution resolution = resolve(configPath);
        Set<String> values = new TreeSet<>();
        for (JsonNode schema : resolution.schemas()) {
            schema.path("enum").forEach(value -> values.add(value.asText()));
        }
        return values;
    }

    private void collect(JsonNode node, String pattern, Map<String, Set<String>> fields, int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalStateException("schema nests deeper than " + MAX_DEPTH + " at " + pattern
                                            + " (a $ref cycle?)");
        }
        for (JsonNode schema : expand(node)) {
            JsonNode properties = schema.path("properties");
            properties.fieldNames().forEachRemaining(name -> {
                fields.computeIfAbsent(pattern, p -> new TreeSet<>()).add(name);
                collect(properties.get(name), join(pattern, name), fields, depth + 1);
            });
            if (schema.path("additionalProperties").isObject()) {
                collect(schema.get("additionalProperties"), join(pattern, "*"), fields, depth + 1);
            }
            if (schema.path("items").isObject()) {
                collect(schema.get("items"), pattern + "[]", fields, depth + 1);
            }
        }
    }

    /** Returns {@code node} and what it includes by {@code $ref}, {@code allOf}, {@code anyOf}, {@code oneOf}. */
    private List<JsonNode> expand(JsonNode node) {
        Set<JsonNode> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<JsonNode> out = new ArrayList<>();
        expand(node, seen, out);
        return out;
    }

    private void expand(JsonNode node, Set<JsonNode> seen, List<JsonNode> out) {
        if (!node.isObject() || !seen.add(node)) {
            return;
        }
        out.add(node);
        if (node.has("$ref")) {
            expand(reference(node.get("$ref").asText()), seen, out);
        }
        for (String combinator : new String[] {"allOf", "anyOf", "oneOf"}) {
            node.path(combinator).forEach(branch -> expand(branch, seen, out));
        }
    }

    private JsonNode reference(String ref) {
        if (!ref.startsWith("#/")) {
            throw new IllegalArgumentException("only local references are supported, got " + ref);
        }
        JsonNode target = root.at(ref.substring(1));
        if (target.isMissingNode()) {
            throw new IllegalArgumentException("unresolved reference " + ref);
        }
        return target;
    }

    /** Splits {@code a.b[0]["c d"]} into {@code a}, {@code b}, {@code 0}, {@code c d}. */
    static List<Object> segments(String path) {
        List<Object> segments = new ArrayList<>();
        int i = 0;
        while (i < path.length()) {
            char c = path.charAt(i);
            if (c == '.') {
                i++;
            } else if (path.startsWith("[\"", i)) {
                StringBuilder key = new StringBuilder();
                i += 2;
                while (path.charAt(i) != '"') {
                    if (path.charAt(i) == '\\') {
                        i++;
                    }
                    key.append(path.charAt(i++));
                }
                i += 2; // the closing quote and bracket
                segments.add(key.toString());
            } else if (c == '[') {
                int end = path.indexOf(']', i);
                segments.add(Integer.parseInt(path.substring(i + 1, end)));
                i = end + 1;
            } else {
                int end = i;
                while (end < path.length() && path.charAt(end) != '.' && path.charAt(end) != '[') {
                    end++;
                }
                segments.add(path.substring(i, end));
                i = end;
            }
        }
        return segments;
    }

    private static void append(StringBuilder pattern, String key) {
        String joined = join(pattern.toString(), key);
        pattern.setLength(0);
        pattern.append(joined);
    }

    static String join(String pattern, String key) {
        String segment = key.equals("*") || SIMPLE_KEY.matcher(key).matches() ? key : "[\"" + key + "\"]";
        return pattern.isEmpty() || segment.startsWith("[") ? pattern + segment : pattern + "." + segment;
    }

    /**
     * Where a config path leads.
     *
     * @param pattern the path as a pattern, up to and including the first step the schema does not declare
     * @param schemas the schemas that apply there, with their inclusions expanded; empty unless {@code found}
     * @param state   whether the path was found, is missing from the schema, or lies inside a free-form value
     */
    record Resolution(String pattern, List<JsonNode> schemas, State state) {

        static Resolution found(String pattern, List<JsonNode> schemas) {
            return new Resolution(pattern, schemas, State.FOUND);
        }

        static Resolution missing(String pattern) {
            return new Resolution(pattern, List.of(), State.MISSING);
        }

        static Resolution open(String pattern) {
            return new Resolution(pattern, List.of(), State.OPEN);
        }

        /** Returns the fixed fields declared here. */
        Set<String> declaredFields() {
            Set<String> names = new LinkedHashSet<>();
            for (JsonNode schema : schemas) {
                schema.path("properties").fieldNames().forEachRemaining(names::add);
            }
            return names;
        }

        /** Returns whether keys the user names are allowed here (no {@code additionalProperties: false}). */
        boolean allowsUserNamedKeys() {
            for (JsonNode schema : schemas) {
                JsonNode additional = schema.get("additionalProperties");
                if (additional != null && additional.isBoolean() && !additional.booleanValue()) {
                    return false;
                }
            }
            return true;
        }
    }

    /** Whether a path was found in the schema. */
    enum State {
        /** The schema declares every step. */
        FOUND,
        /** A step is not declared and the schema forbids others there. */
        MISSING,
        /** A step lies inside a value the schema leaves free (any key, any value). */
        OPEN
    }
}
