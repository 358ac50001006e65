package dev.detour.cache;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The canonicaliser Detour had before {@link RequestCanonicalizer} streamed: the body read into a Jackson tree
 * and written back with sorted keys. Kept unchanged as the oracle that {@code RequestCanonicalizerDifferentialTest}
 * holds the streaming one to, byte for byte.
 */
final class TreeCanonicalizer {

    /** Top-level fields that do not change the answer. */
    static final Set<String> IGNORED = Set.of("model", "user", "stream", "stream_options", "store", "metadata",
                                              "service_tier", "prompt_cache_key", "safety_identifier");

    /** Integral values with more digits than this are written in scientific notation (bounded output). */
    private static final int MAX_PLAIN_DIGITS = 40;

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .disable(StreamReadFeature.AUTO_CLOSE_SOURCE)
            .build();
    private static final ObjectReader READER = new ObjectMapper(FACTORY)
            .setNodeFactory(JsonNodeFactory.withExactBigDecimals(true))
            .reader()
            .with(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private TreeCanonicalizer() {
    }

    /**
     * Writes the canonical form of the JSON object in {@code body} to {@code out}.
     *
     * @throws IOException if {@code body} is not a JSON object (or cannot be read)
     */
    static void write(InputStream body, OutputStream out) throws IOException {
        JsonNode root = READER.readTree(body);
        if (root == null || !root.isObject()) {
            throw new IOException("not a JSON object");
        }
        try (JsonGenerator gen = FACTORY.createGenerator(out)) {
            writeObject(root, gen, true);
        }
    }

    /** Returns the canonical form of {@code body}. */
    static byte[] canonical(byte[] body) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length);
        write(new java.io.ByteArrayInputStream(body), out);
        return out.toByteArray();
    }

    private static void write(JsonNode node, JsonGenerator gen) throws IOException {
        switch (node.getNodeType()) {
            case OBJECT:
                writeObject(node, gen, false);
                break;
            case ARRAY:
                gen.writeStartArray();
                for (JsonNode element : node) {
                    write(element, gen);
                }
                gen.writeEndArray();
                break;
            case STRING:
                gen.writeString(node.textValue());
                break;
            case NUMBER:
                gen.writeNumber(number(node));
                break;
            case BOOLEAN:
                gen.writeBoolean(node.booleanValue());
                break;
            case NULL:
                gen.writeNull();
                break;
            default:
                throw new IOException("unexpected JSON node " + node.getNodeType());
        }
    }

    private static void writeObject(JsonNode node, JsonGenerator gen, boolean top) throws IOException {
        List<String> names = new ArrayList<>(node.size());
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!top || !IGNORED.contains(name)) {
                names.add(name);
            }
        }
        names.sort(null);
        gen.writeStartObject();
        for (String name : names) {
            gen.writeFieldName(name);
            write(node.get(name), gen);
        }
        gen.writeEndObject();
    }

    /**
     * Returns the one spelling of a number's value: integers in plain digits, other values as
     * {@link BigDecimal#toString()} of the value without trailing zeros (unique per value).
     */
    static String number(JsonNode node) {
        if (node.isIntegralNumber() && node.canConvertToLong()) {
            return Long.toString(node.longValue());
        }
        BigDecimal d = node.decimalValue().stripTrailingZeros();
        if (d.signum() == 0) {
            return "0";
        }
        if (d.scale() <= 0 && d.precision() - d.scale() <= MAX_PLAIN_DIGITS) {
            return d.toPlainString(); // an integer written as 1e3 or 1000.0 reads as 1000, like the literal
        }
        return d.toString();
    }
}
