package dev.detour.provider.mock;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.detour.filter.Headers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Writes the mock's JSON bodies and SSE frames with Jackson's generator, so every string is escaped
 * correctly whatever the client sent. Thread-safe.
 */
final class MockJson {

    static final Headers JSON_HEADERS = Headers.of("content-type", "application/json");
    static final Headers SSE_HEADERS = Headers.of("content-type", "text/event-stream", "cache-control", "no-cache");
    static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);
    static final String FINGERPRINT = "fp_detour_mock";

    private static final JsonFactory JSON = new JsonFactory();
    private static final byte[] DATA_PREFIX = "data: ".getBytes(StandardCharsets.US_ASCII);

    private MockJson() {
    }

    /** Returns the JSON that {@code writer} generates. */
    static byte[] write(Writer writer) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        generate(out, writer);
        return out.toByteArray();
    }

    /** Returns one SSE frame, {@code data: <json>\n\n}, holding the JSON that {@code writer} generates. */
    static byte[] event(Writer writer) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        out.writeBytes(DATA_PREFIX);
        generate(out, writer);
        out.write('\n');
        out.write('\n');
        return out.toByteArray();
    }

    private static void generate(ByteArrayOutputStream out, Writer writer) {
        // The generator's default pretty printer is off, so the JSON stays on one line as SSE data must.
        try (JsonGenerator gen = JSON.createGenerator(out)) {
            writer.write(gen);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes one JSON value. */
    @FunctionalInterface
    interface Writer {
        void write(JsonGenerator gen) throws IOException;
    }
}
