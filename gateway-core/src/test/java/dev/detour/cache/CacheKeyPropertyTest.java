package dev.detour.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.detour.api.Endpoint;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Canonicalisation over generated chat requests: any rewriting that keeps the meaning (key order, whitespace,
 * number spelling, string escapes, answer-neutral fields) keeps the key; any change to a field that changes
 * the answer changes it.
 */
class CacheKeyPropertyTest {

    /** Fields that change the answer, with how to generate a value for each. */
    private static final List<String> ANSWER_FIELDS = List.of("messages", "temperature", "top_p", "max_tokens",
            "max_completion_tokens", "seed", "n", "tools", "tool_choice", "response_format", "stop",
            "presence_penalty", "frequency_penalty", "logit_bias", "logprobs", "reasoning_effort");

    @Property(tries = 300)
    void equivalentBodiesHaveTheSameKey(@ForAll("requests") Map<String, Object> request, @ForAll long seed)
            throws IOException {
        Random random = new Random(seed);
        String plain = Json.write(request, new Random(0), false);
        String rewritten = Json.write(withNeutralFields(request, random), random, true);

        assertEquals(key(plain), key(rewritten), () -> plain + "\n" + rewritten);
    }

    @Property(tries = 300)
    void anyAnswerChangingFieldChangesTheKey(@ForAll("requests") Map<String, Object> request,
                                             @ForAll("fieldIndex") int field, @ForAll("values") Object value)
            throws IOException {
        String name = ANSWER_FIELDS.get(field);
        Map<String, Object> changed = new LinkedHashMap<>(request);
        Object before = changed.put(name, value);
        if (sameValue(before, value)) {
            changed.put(name, List.of("different", value == null ? 0 : value));
        }

        assertNotEquals(key(Json.write(request, new Random(0), false)), key(Json.write(changed, new Random(0), false)),
                        () -> name + " changed from " + before + " to " + changed.get(name));
    }

    @Property(tries = 100)
    void removingAFieldChangesTheKey(@ForAll("requests") Map<String, Object> request) throws IOException {
        Map<String, Object> smaller = new LinkedHashMap<>(request);
        smaller.remove("messages");

        assertNotEquals(key(Json.write(request, new Random(0), false)), key(Json.write(smaller, new Random(0), false)));
    }

    @Provide
    Arbitrary<Map<String, Object>> requests() {
        Arbitrary<List<Object>> messages = message().list().ofMinSize(1).ofMaxSize(4).map(l -> new ArrayList<>(l));
        Arbitrary<Map<String, Object>> options = Arbitraries.maps(Arbitraries.of(ANSWER_FIELDS), values())
                .ofMaxSize(5);
        return Combinators.combine(messages, options).as((m, o) -> {
            Map<String, Object> r = new LinkedHashMap<>(o);
            r.put("messages", m);
            return r;
        });
    }

    @Provide
    Arbitrary<Integer> fieldIndex() {
        return Arbitraries.integers().between(0, ANSWER_FIELDS.size() - 1);
    }

    @Provide
    Arbitrary<Object> values() {
        Arbitrary<Object> scalars = Arbitraries.oneOf(
                Arbitraries.strings().withCharRange(' ', '~').withChars('é', '\n', '"', '\\', '\u2028').ofMaxLength(12)
                        .map(s -> (Object) s),
                Arbitraries.integers().between(-1000, 100_000).map(i -> (Object) i),
                Arbitraries.bigDecimals().between(BigDecimal.valueOf(-2), BigDecimal.valueOf(2)).ofScale(3)
                        .map(d -> (Object) d),
                Arbitraries.of(true, false).map(b -> (Object) b),
                Arbitraries.just(null));
        return Arbitraries.oneOf(scalars,
                scalars.list().ofMaxSize(3).map(l -> (Object) new ArrayList<>(l)),
                Arbitraries.maps(Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(6), scalars).ofMaxSize(3)
                        .map(m -> (Object) new LinkedHashMap<>(m)));
    }

    private Arbitrary<Object> message() {
        return Combinators.combine(Arbitraries.of("system", "user", "assistant"),
                                   Arbitraries.strings().withCharRange(' ', '~').withChars('ü', '\t').ofMaxLength(30))
                .as((role, content) -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("role", role);
                    m.put("content", content);
                    return m;
                });
    }

    private static Map<String, Object> withNeutralFields(Map<String, Object> request, Random random) {
        List<Map.Entry<String, Object>> entries = new ArrayList<>(request.entrySet());
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("model", "any-" + random.nextInt(3));
        extra.put("user", "user-" + random.nextInt(1000));
        extra.put("stream", random.nextBoolean());
        if (random.nextBoolean()) {
            extra.put("stream_options", Map.of("include_usage", random.nextBoolean()));
        }
        extra.put("metadata", Map.of("trace", Integer.toString(random.nextInt())));
        entries.addAll(extra.entrySet());
        Collections.shuffle(entries, random);
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : entries) {
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }

    /**
     * Returns whether {@code a} and {@code b} are the same JSON value, numbers compared by value at any depth as the
     * canonical form compares them: {@code [0]} and {@code [0.000]} are one value, though not {@code equals}.
     */
    private static boolean sameValue(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y) {
            return new BigDecimal(x.toString()).compareTo(new BigDecimal(y.toString())) == 0;
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (int i = 0; i < x.size(); i++) {
                if (!sameValue(x.get(i), y.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (!x.keySet().equals(y.keySet())) {
                return false;
            }
            for (Map.Entry<?, ?> e : x.entrySet()) {
                if (!sameValue(e.getValue(), y.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        return a == null ? b == null : a.equals(b);
    }

    private static CacheKey key(String body) throws IOException {
        return RequestCanonicalizerTest.key(Endpoint.CHAT_COMPLETIONS, "team:t", "m", body);
    }

    /**
     * Writes generated values as JSON; when {@code vary} is set, with random whitespace, key order inside
     * objects, escapes and number spellings, none of which change the value.
     */
    private static final class Json {
        static String write(Object value, Random random, boolean vary) {
            StringBuilder sb = new StringBuilder();
            value(sb, value, random, vary);
            return sb.toString();
        }

        @SuppressWarnings("unchecked")
        private static void value(StringBuilder sb, Object v, Random r, boolean vary) {
            if (v == null) {
                sb.append("null");
            } else if (v instanceof Map<?, ?> m) {
                List<Map.Entry<String, Object>> entries = new ArrayList<>(((Map<String, Object>) m).entrySet());
                if (vary) {
                    Collections.shuffle(entries, r);
                }
                sb.append('{');
                for (int i = 0; i < entries.size(); i++) {
                    space(sb, r, vary);
                    if (i > 0) {
                        sb.append(',');
                        space(sb, r, vary);
                    }
                    string(sb, entries.get(i).getKey(), r, vary);
                    space(sb, r, vary);
                    sb.append(':');
                    space(sb, r, vary);
                    value(sb, entries.get(i).getValue(), r, vary);
                }
                space(sb, r, vary);
                sb.append('}');
            } else if (v instanceof List<?> l) {
                sb.append('[');
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) {
                        sb.append(',');
                    }
                    space(sb, r, vary);
                    value(sb, l.get(i), r, vary);
                }
                sb.append(']');
            } else if (v instanceof String s) {
                string(sb, s, r, vary);
            } else if (v instanceof Integer i) {
                sb.append(vary ? spell(new BigDecimal(i), r) : i.toString());
            } else if (v instanceof BigDecimal d) {
                sb.append(vary ? spell(d, r) : d.toPlainString());
            } else {
                sb.append(v);
            }
        }

        private static String spell(BigDecimal d, Random r) {
            switch (r.nextInt(4)) {
                case 0:
                    return d.toPlainString();
                case 1:
                    return d.setScale(Math.max(d.scale(), 0) + 2).toPlainString(); // trailing zeros
                case 2:
                    return d.unscaledValue() + "e" + (-d.scale()); // scientific
                default:
                    return d.movePointLeft(2).toPlainString() + "E2";
            }
        }

        private static void string(StringBuilder sb, String s, Random r, boolean vary) {
            sb.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '"' || c == '\\') {
                    sb.append('\\').append(c);
                } else if (c < 0x20) {
                    sb.append(String.format("\\u%04x", (int) c));
                } else if (vary && r.nextInt(5) == 0) {
                    sb.append(String.format("\\u%04X", (int) c)); // an escape that means the same character
                } else {
                    sb.append(c);
                }
            }
            sb.append('"');
        }

        private static void space(StringBuilder sb, Random r, boolean vary) {
            if (vary) {
                sb.append(" \n\t  ", 0, r.nextInt(5));
            }
        }
    }
}
