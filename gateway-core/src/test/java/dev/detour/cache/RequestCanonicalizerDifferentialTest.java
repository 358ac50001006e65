package dev.detour.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * Holds the streaming {@link RequestCanonicalizer} to the tree-based one it replaced ({@link TreeCanonicalizer}):
 * for every body, the same canonical bytes (so the same cache key), or both refuse it.
 *
 * <p>The one intended difference: a number whose exponent does not fit an {@code int} made the tree reader
 * throw a {@link NumberFormatException} (a failed request); the streaming one refuses the body with an
 * {@link IOException}, so the cache passes it on ({@code BYPASS}).
 */
class RequestCanonicalizerDifferentialTest {

    @Property(tries = 1500)
    void writesWhatTheTreeWrote(@ForAll long seed) {
        byte[] body = Bodies.of(new Random(seed)).body();

        assertSameOutcome(body);
    }

    @Property(tries = 500)
    void refusesWhatTheTreeRefused(@ForAll long seed) {
        Random random = new Random(seed);
        byte[] body = Bodies.of(random).body();

        assertSameOutcome(Bodies.damage(body, random));
    }

    @Test
    void leavesOutTheFieldsTheTreeLeftOut() {
        assertEquals(TreeCanonicalizer.IGNORED, RequestCanonicalizer.IGNORED);
    }

    @Test
    void keepsTheLastOfDuplicateKeys() throws IOException {
        String body = "{\"b\":1,\"a\":{\"x\":1,\"x\":[2],\"w\":0},\"b\":3,\"c\":{\"k\":1,\"k\":2}}";

        assertEquals("{\"a\":{\"w\":0,\"x\":[2]},\"b\":3,\"c\":{\"k\":2}}", canonical(body));
        assertSameOutcome(bytes(body));
        assertSameOutcome(bytes("{\"model\":\"a\",\"model\":\"b\",\"a\":1,\"a\":1}"));
    }

    @Test
    void writesEmptyAndDeeplyNestedContainers() {
        assertSameOutcome(bytes("{}"));
        assertSameOutcome(bytes("{\"b\":{},\"a\":[],\"c\":[{},[],[[]],{\"z\":{},\"y\":[]}]}"));
        for (int depth : new int[] {2, 50, 999}) {
            assertSameOutcome(bytes(nested(depth)));
        }
        // The parser's limit of 1,000 levels refuses both alike.
        assertThrows(IOException.class, () -> RequestCanonicalizer.canonical(bytes(nested(1001))));
        assertSameOutcome(bytes(nested(1001)));
    }

    @Test
    void writesStringsAsJacksonsGeneratorDoes() throws IOException {
        String body = "{\"s\":\"\\ud83d\\ude00 \uD83D\uDE00 \\ud800 \\udfff é \u4E2D \uFFFF \u007F \u2028 \\u0000 "
                      + "\\u001f \\b\\f\\n\\r\\t \\\" \\\\ \\/ \\u0041\"}";

        assertSameOutcome(bytes(body));
        assertEquals("{\"s\":\"\\uD83D\\uDE00 \\uD83D\\uDE00 \\uD800 \\uDFFF é \u4E2D \uFFFF \u007F \u2028 \\u0000 "
                     + "\\u001F \\b\\f\\n\\r\\t \\\" \\\\ / A\"}", canonical(body));
    }

    @Test
    void writesNumbersAsTheTreeDid() {
        List<String> numbers = List.of("0", "-0", "0.0", "-0.0", "0e5", "1", "-1", "10", "1.0", "1.50", "1e0",
                "10E-1", "1e3", "1E+3", "1000.000", "0.1", "0.000001", "0.0000001", "1e-7", "123.456e2",
                "123.456e-2", "-1.5e-10", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
                "1234567890123456789012345678901234567890", "12345678901234567890123456789012345678901",
                "1000000000000000000000000000000000000000000", "1e40", "1e39", "1e41", "1.5e40", "-2.5e39",
                "1e999999999", "1e-999999999", "0.5e-6", "0.5e-5", "123456789e-14", "7e00000000", "1e000000001",
                "1e+0000000001", "0." + "0".repeat(50) + "1", "1" + "0".repeat(60) + ".0");
        for (String n : numbers) {
            assertSameOutcome(bytes("{\"n\":" + n + "}"));
        }
    }

    @Test
    void refusesMalformedBodiesAsTheTreeDid() {
        for (String body : List.of("", "  ", "null", "[]", "[{}]", "\"s\"", "1", "{", "{\"a\"", "{\"a\":}",
                                   "{\"a\":1,}", "{\"a\":1} x", "{\"a\":1} {}", "{\"a\":01}", "{\"a\":1.}",
                                   "{\"a\":NaN}", "{\"a\":\"\u0001\"}", "{a:1}", "{'a':1}", "{\"a\":[1,]}",
                                   "{\"a\":tru}", "{\"model\":\"m\"} trailing", "\uFEFF{\"a\":1}", "{\"a\":1}\n")) {
            assertSameOutcome(bytes(body));
        }
        byte[] invalidUtf8 = {'{', '"', 'a', '"', ':', '"', (byte) 0xFF, '"', '}'};
        byte[] encodedSurrogate = {'{', '"', 'u', 's', 'e', 'r', '"', ':', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80,
                                   '"', '}'};
        assertSameOutcome(invalidUtf8);
        assertSameOutcome(encodedSurrogate); // in an ignored field: still refused, as the tree refused it
        assertSameOutcome("{\"a\":1}".getBytes(StandardCharsets.UTF_16LE));
    }

    @Test
    void refusesAnExponentBeyondAnIntWhereTheTreeThrew() {
        for (String body : List.of("{\"t\":1e2147483648}", "{\"t\":1e-2147483649}",
                                   "{\"metadata\":{\"x\":1e9999999999}}")) {
            assertThrows(NumberFormatException.class, () -> TreeCanonicalizer.canonical(bytes(body)));

            IOException e = assertThrows(IOException.class, () -> RequestCanonicalizer.canonical(bytes(body)));

            assertInstanceOf(NumberFormatException.class, e.getCause());
        }
    }

    @Test
    void handlesBodiesLargerThanTheScratchItKeeps() {
        StringBuilder sb = new StringBuilder("{\"model\":\"m\",\"messages\":[");
        Random random = new Random(7);
        String content = "xé\\n\\\"\uD83D\uDE00\u4E2D"; // escapes and multi-byte characters across chunks
        while (sb.length() < 3 << 20) {
            sb.append("{\"role\":\"user\",\"content\":\"").append(content.repeat(random.nextInt(3_000)))
              .append("\",\"name\":\"n").append(random.nextInt()).append("\"},");
        }
        sb.append("{}],\"a\":1}");

        assertSameOutcome(bytes(sb.toString()));
        assertSameOutcome(bytes("{\"b\":2,\"a\":1}")); // and the thread's writer is fine afterwards
    }

    /** Asserts that both canonicalisers give the same bytes, or both refuse the body. */
    private static void assertSameOutcome(byte[] body) {
        byte[] expected;
        try {
            expected = TreeCanonicalizer.canonical(body);
        } catch (IOException e) {
            assertThrows(IOException.class, () -> RequestCanonicalizer.canonical(body),
                         () -> "the tree refused (" + e.getMessage() + "): " + show(body));
            return;
        } catch (NumberFormatException e) { // the intended difference (see the class comment)
            IOException refused = assertThrows(IOException.class, () -> RequestCanonicalizer.canonical(body),
                                               () -> "the tree threw (" + e.getMessage() + "): " + show(body));
            assertInstanceOf(NumberFormatException.class, refused.getCause());
            return;
        }
        byte[] actual;
        try {
            actual = RequestCanonicalizer.canonical(body);
        } catch (IOException e) {
            throw new AssertionError("refused (" + e + ") what the tree took: " + show(body), e);
        }
        assertArrayEquals(expected, actual, () -> show(body) + "\nexpected " + show(expected)
                                                  + "\nactual   " + show(actual));
    }

    private static String canonical(String body) throws IOException {
        return new String(RequestCanonicalizer.canonical(bytes(body)), StandardCharsets.UTF_8);
    }

    private static String nested(int depth) {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i < depth; i++) {
            sb.append(i % 2 == 0 ? "{\"z\":1,\"b\":" : "{\"a\":[");
        }
        sb.append("{}");
        for (int i = depth - 1; i >= 1; i--) {
            sb.append(i % 2 == 0 ? ",\"a\":2}" : "]}");
        }
        return sb.toString();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String show(byte[] b) {
        String s = new String(b, StandardCharsets.UTF_8);
        return s.length() > 400 ? s.substring(0, 400) + "... (" + b.length + " bytes)" : s;
    }

    /**
     * Random request-like JSON bodies: nested objects (keys often repeated, out of order, or named like the
     * ignored fields, at the top and deeper), arrays, strings with escapes, surrogates and control characters,
     * and numbers in every spelling, with random whitespace.
     */
    private static final class Bodies {
        private static final String[] KEYS = {"messages", "role", "content", "model", "user", "stream", "metadata",
                "tools", "type", "a", "b", "B", "aa", "", "é", "\uD83D\uDE00", "k\"q", "x\\y", "\u0007", "zz",
                "parameters", "properties", "temperature"};
        private static final char[] CHARS = {'a', 'Z', ' ', '"', '\\', '/', '\n', '\t', '\u0000', '\u001F', '\u007F',
                'é', '\u2028', '\u4E2D', '\uFFFF', '\uD83D', '\uDE00', '\uDBFF', '\uDFFF'};

        private final Random random;
        private final StringBuilder sb = new StringBuilder();

        private Bodies(Random random) {
            this.random = random;
        }

        static Bodies of(Random random) {
            Bodies b = new Bodies(random);
            b.object(0);
            return b;
        }

        byte[] body() {
            return sb.toString().getBytes(StandardCharsets.UTF_8);
        }

        /** Returns {@code body} truncated, with a byte changed, or with something after it. */
        static byte[] damage(byte[] body, Random random) {
            int at = random.nextInt(body.length);
            return switch (random.nextInt(4)) {
                case 0 -> Arrays.copyOf(body, at);
                case 1 -> {
                    byte[] b = body.clone();
                    b[at] = (byte) "{}[]\",:0-e.x \\\u00FF".charAt(random.nextInt(15));
                    yield b;
                }
                case 2 -> {
                    byte[] b = Arrays.copyOf(body, body.length + 3);
                    b[body.length] = ' ';
                    b[body.length + 1] = (byte) "{}[1x".charAt(random.nextInt(5));
                    b[body.length + 2] = ' ';
                    yield b;
                }
                default -> {
                    byte[] b = new byte[body.length - 1];
                    System.arraycopy(body, 0, b, 0, at);
                    System.arraycopy(body, at + 1, b, at, body.length - at - 1);
                    yield b;
                }
            };
        }

        private void value(int depth) {
            int pick = random.nextInt(depth > 5 ? 6 : 9);
            switch (pick) {
                case 0, 1 -> string();
                case 2, 3 -> number();
                case 4 -> sb.append(random.nextBoolean() ? "true" : "false");
                case 5 -> sb.append("null");
                case 6, 7 -> object(depth + 1);
                default -> array(depth + 1);
            }
        }

        private void object(int depth) {
            sb.append('{');
            int n = random.nextInt(depth == 0 ? 12 : 6);
            boolean ascending = random.nextInt(3) == 0;
            for (int i = 0; i < n; i++) {
                if (i > 0) {
                    sb.append(',');
                }
                space();
                String key = ascending ? String.valueOf((char) ('a' + i)) : KEYS[random.nextInt(KEYS.length)];
                string(key);
                space();
                sb.append(':');
                space();
                value(depth);
                space();
            }
            sb.append('}');
        }

        private void array(int depth) {
            sb.append('[');
            int n = random.nextInt(5);
            for (int i = 0; i < n; i++) {
                if (i > 0) {
                    sb.append(',');
                }
                space();
                value(depth);
            }
            sb.append(']');
        }

        private void string() {
            StringBuilder s = new StringBuilder();
            int n = random.nextInt(random.nextInt(10) == 0 ? 300 : 12);
            for (int i = 0; i < n; i++) {
                s.append(random.nextInt(3) == 0 ? CHARS[random.nextInt(CHARS.length)]
                                                : (char) (' ' + random.nextInt(95)));
            }
            string(s.toString());
        }

        /** Writes {@code s} as a JSON string, escaping what must be and, at random, what need not be. */
        private void string(String s) {
            sb.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '"' || c == '\\') {
                    sb.append('\\').append(c);
                } else if (c == '/' && random.nextBoolean()) {
                    sb.append("\\/");
                } else if (c < 0x20 || Character.isSurrogate(c) && random.nextBoolean() || random.nextInt(12) == 0) {
                    String hex = String.format("%04x", (int) c);
                    sb.append("\\u").append(random.nextBoolean() ? hex : hex.toUpperCase());
                } else {
                    sb.append(c);
                }
            }
            sb.append('"');
        }

        private void number() {
            if (random.nextBoolean()) {
                sb.append(random.nextInt(5) == 0 ? '-' : "");
                sb.append(random.nextInt(4) == 0 ? "0" : digitsWithoutLeadingZero(random.nextInt(6) == 0 ? 45 : 20));
                return;
            }
            if (random.nextInt(4) == 0) {
                sb.append('-');
            }
            sb.append(random.nextInt(3) == 0 ? "0" : digitsWithoutLeadingZero(8));
            if (random.nextInt(3) > 0) {
                sb.append('.').append(digits(1 + random.nextInt(random.nextInt(8) == 0 ? 50 : 8)));
            }
            if (random.nextInt(3) > 0) {
                sb.append(random.nextBoolean() ? 'e' : 'E').append(new String[] {"", "+", "-"}[random.nextInt(3)]);
                sb.append(random.nextInt(10) == 0 ? digits(9 + random.nextInt(2)) : digits(1 + random.nextInt(3)));
            }
        }

        private String digitsWithoutLeadingZero(int max) {
            return (char) ('1' + random.nextInt(9)) + digits(random.nextInt(max));
        }

        private String digits(int n) {
            StringBuilder d = new StringBuilder();
            for (int i = 0; i < n; i++) {
                d.append(random.nextInt(3) == 0 ? '0' : (char) ('0' + random.nextInt(10)));
            }
            return d.toString();
        }

        private void space() {
            if (random.nextInt(4) == 0) {
                sb.append(" \n\t\r ", 0, 1 + random.nextInt(4));
            }
        }
    }
}
