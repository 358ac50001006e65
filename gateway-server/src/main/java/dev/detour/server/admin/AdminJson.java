package dev.detour.server.admin;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.detour.error.ErrorKind;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/** Pretty-printed JSON bodies and responses for admin views. Stateless. */
final class AdminJson {

    private static final JsonFactory JSON = new JsonFactory();

    private AdminJson() {
    }

    /** Writes one JSON document. */
    @FunctionalInterface
    interface Body {
        void write(JsonGenerator gen) throws IOException;
    }

    /** Returns the pretty-printed document {@code body} writes. */
    static byte[] render(Body body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        try (JsonGenerator gen = JSON.createGenerator(out)) {
            gen.useDefaultPrettyPrinter();
            body.write(gen);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Returns a JSON response with {@code status}. */
    static GatewayResponse.Full response(int status, byte[] body) {
        return new GatewayResponse.Full(status, Headers.of("content-type", "application/json"), body);
    }

    /**
     * Returns an OpenAI-shaped error whose body carries, next to {@code error}, the fields {@code extra} writes:
     * clients that only know OpenAI's envelope still read it, operators get the details.
     */
    static GatewayResponse.Full error(ErrorKind kind, String message, String code, Body extra) {
        return response(kind.status(), render(gen -> {
            gen.writeStartObject();
            gen.writeObjectFieldStart("error");
            gen.writeStringField("message", message);
            gen.writeStringField("type", kind.type());
            gen.writeNullField("param");
            gen.writeStringField("code", code);
            gen.writeEndObject();
            extra.write(gen);
            gen.writeEndObject();
        }));
    }

    /** Writes an instant as ISO-8601 text, or {@code null}. */
    static void instant(JsonGenerator gen, String field, Optional<Instant> at) throws IOException {
        if (at.isPresent()) {
            gen.writeStringField(field, at.get().toString());
        } else {
            gen.writeNullField(field);
        }
    }

    /** Writes a duration in milliseconds. */
    static void millis(JsonGenerator gen, String field, Duration d) throws IOException {
        gen.writeNumberField(field, d.toMillis());
    }

    /** Writes {@code value} as a string, or {@code null}. */
    static void string(JsonGenerator gen, String field, String value) throws IOException {
        if (value == null) {
            gen.writeNullField(field);
        } else {
            gen.writeStringField(field, value);
        }
    }
}
