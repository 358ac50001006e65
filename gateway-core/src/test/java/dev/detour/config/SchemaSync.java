package dev.detour.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Compares the fields the binder accepts, as a {@link MappingObserver} heard them during one load, with the fields a
 * JSON schema declares. Each problem is one line that says what to change.
 */
final class SchemaSync {

    static final String SCHEMA_FILE = "docs/config.schema.json";
    static final String FIXTURE_FILE = "gateway-core/src/test/resources/config/everything.yaml";

    private SchemaSync() {
    }

    /** Returns a problem for each field the binder accepts that the schema does not declare. */
    static List<String> missingFromSchema(SchemaPaths schema, List<Read> reads) {
        Set<String> problems = new LinkedHashSet<>();
        for (Read read : reads) {
            SchemaPaths.Resolution at = schema.resolve(read.path());
            switch (at.state()) {
                case OPEN -> {
                    // Inside a free-form value (a target's params): the binder names no fields there.
                }
                case MISSING -> problems.add("schema lacks " + shown(at.pattern()) + ", which the binder reads: add it "
                                             + "to " + SCHEMA_FILE);
                case FOUND -> {
                    if (read.knownKeys().isEmpty()) {
                        if (!at.allowsUserNamedKeys()) {
                            problems.add("schema closes " + shown(at.pattern()) + " with additionalProperties: "
                                         + "false, but the binder takes keys the user names there");
                        }
                        continue;
                    }
                    Set<String> declared = at.declaredFields();
                    for (String key : read.knownKeys()) {
                        if (!declared.contains(key)) {
                            problems.add("schema lacks " + SchemaPaths.join(at.pattern(), key) + ": add it to "
                                         + SCHEMA_FILE + " under " + shown(at.pattern()));
                        }
                    }
                }
            }
        }
        return new ArrayList<>(problems);
    }

    /**
     * Returns a problem for each field the schema declares that the binder does not accept, and for each section the
     * load never reached (so nothing can be said about its fields).
     */
    static List<String> unknownToBinder(SchemaPaths schema, List<Read> reads) {
        Map<String, Set<String>> accepted = new HashMap<>();
        for (Read read : reads) {
            SchemaPaths.Resolution at = schema.resolve(read.path());
            if (at.state() == SchemaPaths.State.FOUND) {
                accepted.computeIfAbsent(at.pattern(), p -> new TreeSet<>()).addAll(read.knownKeys());
            }
        }
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Set<String>> declared : schema.declaredFields().entrySet()) {
            Set<String> known = accepted.get(declared.getKey());
            if (known == null) {
                problems.add("the binder never read " + shown(declared.getKey()) + " while loading " + FIXTURE_FILE
                             + ", so the schema's fields there " + declared.getValue() + " are unchecked: add that "
                             + "section to the fixture (or, if the binder has no such section, remove it from "
                             + SCHEMA_FILE + ")");
                continue;
            }
            for (String name : declared.getValue()) {
                if (!known.contains(name)) {
                    problems.add("schema declares " + SchemaPaths.join(declared.getKey(), name) + ", which the "
                                 + "binder refuses as an unknown field: remove it from " + SCHEMA_FILE
                                 + " (or teach the binder the field)");
                }
            }
        }
        return problems;
    }

    private static String shown(String pattern) {
        return pattern.isEmpty() ? "the top level" : pattern;
    }

    /**
     * One mapping the binder read.
     *
     * @param path      its config path
     * @param knownKeys the keys the binder accepts there; empty when the user names them
     */
    record Read(String path, List<String> knownKeys) {
    }

    /** Records every mapping a load reads, in order. One per load. */
    static final class Recorder implements MappingObserver {

        private final List<Read> reads = new ArrayList<>();

        @Override
        public void mappingRead(String path, List<String> knownKeys) {
            reads.add(new Read(path, List.copyOf(knownKeys)));
        }

        List<Read> reads() {
            return List.copyOf(reads);
        }
    }
}
