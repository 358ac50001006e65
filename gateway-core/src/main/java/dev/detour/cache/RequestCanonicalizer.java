package dev.detour.cache;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * Writes a request body as canonical JSON, so that requests that ask the same question hash alike.
 *
 * <p>Canonical form: object keys sorted (by UTF-16 code units; of duplicate keys the last one counts), no
 * whitespace, strings re-escaped by one rule (so {@code "\u0041"} and {@code "A"} are equal), and numbers by
 * value: {@code 1}, {@code 1.0}, {@code 1e0} and {@code 10E-1} all read {@code 1} (see {@link
 * #number(BigDecimal)}). The top-level fields that do not change the answer ({@link #IGNORED}: the model name,
 * which the route stands for, {@code user}, {@code stream}, {@code stream_options} and other tracking or
 * storage switches) are left out; nested ones are kept, because inside {@code messages} or {@code tools} they
 * are content.
 *
 * <p>The body is read once with Jackson's streaming parser and never becomes a tree: a {@link CanonicalWriter}
 * turns the tokens into canonical bytes, sorting each object's members as it ends, and the bytes go to the
 * output in a few writes. The writer's scratch arrays are kept per thread and reused, so a body costs the
 * parser's own objects and hardly anything else. The canonical bytes are the ones a Jackson tree written
 * back with sorted keys gives (a test checks this on generated bodies).
 *
 * <p>Thread-safe.
 */
final class RequestCanonicalizer {

    /** Top-level fields that do not change the answer. */
    static final Set<String> IGNORED = Set.of("model", "user", "stream", "stream_options", "store", "metadata",
                                              "service_tier", "prompt_cache_key", "safety_identifier");

    /** Integral values with more digits than this are written in scientific notation (bounded output). */
    static final int MAX_PLAIN_DIGITS = 40;

    /**
     * Strict JSON, as before: no lenient number forms (leading zeros or {@code +}, {@code NaN}), which
     * {@link CanonicalWriter#number} relies on to read a number's text.
     */
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .disable(StreamReadFeature.AUTO_CLOSE_SOURCE)
            .build();
    private static final byte[] TRUE = "true".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FALSE = "false".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NULL = "null".getBytes(StandardCharsets.US_ASCII);

    /**
     * One writer per thread: keys are computed synchronously on the request's thread (an event loop), and
     * {@link CanonicalWriter#claim()} makes sure a writer serves one body at a time.
     */
    private static final ThreadLocal<CanonicalWriter> WRITERS = ThreadLocal.withInitial(CanonicalWriter::new);

    private RequestCanonicalizer() {
    }

    /**
     * Writes the canonical form of the JSON object in {@code body} to {@code out}.
     *
     * @throws IOException if {@code body} is not a JSON object, cannot be read, or holds a number whose
     *                     exponent does not fit an {@code int}
     */
    static void write(InputStream body, OutputStream out) throws IOException {
        CanonicalWriter writer = WRITERS.get();
        if (!writer.claim()) {
            writer = new CanonicalWriter(); // a nested call (none today) gets a writer of its own
            writer.claim();
        }
        try (JsonParser p = FACTORY.createParser(body)) {
            canonicalize(p, writer);
            writer.writeTo(out);
        } finally {
            writer.release();
        }
    }

    /** Returns the canonical form of {@code body}; for tests and debugging. */
    static byte[] canonical(byte[] body) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length);
        write(new ByteArrayInputStream(body), out);
        return out.toByteArray();
    }

    /**
     * Returns the one spelling of a number held in a Jackson tree node: {@link #number(BigDecimal)} of its
     * value. The streaming path never builds nodes; this states the rule for node values (tests use it).
     */
    static String number(JsonNode node) {
        if (node.isIntegralNumber() && node.canConvertToLong()) {
            return Long.toString(node.longValue());
        }
        return number(node.decimalValue());
    }

    /**
     * Returns the one spelling of a number's value: an integer of at most {@value #MAX_PLAIN_DIGITS} digits in
     * plain digits, any other value as {@link BigDecimal#toString()} of the value without trailing zeros
     * (unique per value). {@link CanonicalWriter#number} spells the common numbers the same way without a
     * {@code BigDecimal}.
     */
    static String number(BigDecimal value) {
        BigDecimal d = value.stripTrailingZeros();
        if (d.signum() == 0) {
            return "0";
        }
        if (d.scale() <= 0 && d.precision() - d.scale() <= MAX_PLAIN_DIGITS) {
            return d.toPlainString(); // an integer written as 1e3 or 1000.0 reads as 1000, like the literal
        }
        return d.toString();
    }

    /** Reads the root object from {@code p} into {@code writer}, then checks that nothing follows it. */
    private static void canonicalize(JsonParser p, CanonicalWriter writer) throws IOException {
        if (p.nextToken() != JsonToken.START_OBJECT) {
            throw new IOException("not a JSON object");
        }
        writer.startObject();
        long ignoredFrom = -1; // while an ignored top-level field's value is read: the writer's mark before it
        while (writer.depth() > 0) {
            JsonToken t = p.nextToken();
            if (t == null) {
                throw new IOException("truncated JSON"); // the parser reports this first; kept for safety
            }
            switch (t) {
                case START_OBJECT -> writer.startObject();
                case END_OBJECT -> writer.endObject();
                case START_ARRAY -> writer.startArray();
                case END_ARRAY -> writer.endArray();
                case FIELD_NAME -> {
                    String name = p.currentName();
                    if (writer.depth() == 1 && IGNORED.contains(name)) {
                        // The value is still read and checked like any other, so that a body is refused or
                        // accepted whatever its ignored fields hold, then the bytes are dropped.
                        ignoredFrom = writer.mark();
                    } else {
                        writer.field(name, p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
                    }
                }
                case VALUE_STRING -> writer.stringValue(p.getTextCharacters(), p.getTextOffset(),
                                                        p.getTextLength());
                case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> number(p, writer);
                case VALUE_TRUE -> writer.literal(TRUE);
                case VALUE_FALSE -> writer.literal(FALSE);
                case VALUE_NULL -> writer.literal(NULL);
                default -> throw new IOException("unexpected JSON token " + t);
            }
            if (ignoredFrom >= 0 && writer.depth() == 1 && t != JsonToken.FIELD_NAME) {
                writer.rollBack(ignoredFrom); // the ignored field's value is complete
                ignoredFrom = -1;
            }
        }
        if (p.nextToken() != null) {
            throw new IOException("trailing content after the JSON object");
        }
    }

    private static void number(JsonParser p, CanonicalWriter writer) throws IOException {
        if (writer.number(p.getTextCharacters(), p.getTextOffset(), p.getTextLength())) {
            return;
        }
        BigDecimal value;
        try {
            value = p.getDecimalValue();
        } catch (NumberFormatException e) {
            // An exponent beyond an int: no BigDecimal holds the value. Not canonicalisable, so not cached.
            throw new IOException("number out of range: " + e.getMessage(), e);
        }
        writer.numberValue(number(value));
    }
}
