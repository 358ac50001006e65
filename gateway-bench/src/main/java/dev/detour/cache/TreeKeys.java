package dev.detour.cache;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.detour.api.Endpoint;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The cache key as Detour computed it before the canonicaliser streamed: the body read into a Jackson tree and
 * written back with sorted keys into the digest. {@link CacheKeyBenchmark#keyTree} measures it next to
 * {@link CacheKeys#of} in the same run, as the yardstick on a noisy machine. Benchmark code only.
 */
final class TreeKeys {

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .disable(StreamReadFeature.AUTO_CLOSE_SOURCE)
            .build();
    private static final ObjectReader READER = new ObjectMapper(FACTORY)
            .setNodeFactory(JsonNodeFactory.withExactBigDecimals(true))
            .reader()
            .with(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private static final MessageDigest PROTOTYPE = sha256();

    private TreeKeys() {
    }

    static CacheKey of(Endpoint endpoint, String scope, byte[] fingerprint, InputStream body) throws IOException {
        MessageDigest digest = newDigest();
        part(digest, endpoint.path().getBytes(StandardCharsets.US_ASCII));
        part(digest, scope.getBytes(StandardCharsets.UTF_8));
        part(digest, fingerprint);
        JsonNode root = READER.readTree(body);
        if (root == null || !root.isObject()) {
            throw new IOException("not a JSON object");
        }
        OutputStream sink = new OutputStream() {
            @Override
            public void write(int b) {
                digest.update((byte) b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                digest.update(b, off, len);
            }
        };
        try (JsonGenerator gen = FACTORY.createGenerator(sink)) {
            writeObject(root, gen, true);
        }
        return CacheKey.of(digest.digest());
    }

    private static void part(MessageDigest digest, byte[] bytes) {
        int n = bytes.length;
        digest.update((byte) (n >>> 24));
        digest.update((byte) (n >>> 16));
        digest.update((byte) (n >>> 8));
        digest.update((byte) n);
        digest.update(bytes);
    }

    private static MessageDigest newDigest() {
        try {
            return (MessageDigest) PROTOTYPE.clone();
        } catch (CloneNotSupportedException e) {
            return sha256();
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void write(JsonNode node, JsonGenerator gen) throws IOException {
        switch (node.getNodeType()) {
            case OBJECT -> writeObject(node, gen, false);
            case ARRAY -> {
                gen.writeStartArray();
                for (JsonNode element : node) {
                    write(element, gen);
                }
                gen.writeEndArray();
            }
            case STRING -> gen.writeString(node.textValue());
            case NUMBER -> gen.writeNumber(number(node));
            case BOOLEAN -> gen.writeBoolean(node.booleanValue());
            case NULL -> gen.writeNull();
            default -> throw new IOException("unexpected JSON node " + node.getNodeType());
        }
    }

    private static void writeObject(JsonNode node, JsonGenerator gen, boolean top) throws IOException {
        List<String> names = new ArrayList<>(node.size());
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!top || !RequestCanonicalizer.IGNORED.contains(name)) {
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

    private static String number(JsonNode node) {
        if (node.isIntegralNumber() && node.canConvertToLong()) {
            return Long.toString(node.longValue());
        }
        BigDecimal d = node.decimalValue().stripTrailingZeros();
        if (d.signum() == 0) {
            return "0";
        }
        if (d.scale() <= 0 && d.precision() - d.scale() <= RequestCanonicalizer.MAX_PLAIN_DIGITS) {
            return d.toPlainString();
        }
        return d.toString();
    }
}
