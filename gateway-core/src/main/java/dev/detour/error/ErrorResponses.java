package dev.detour.error;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The one mapper from an error to OpenAI's envelope,
 * {@code {"error":{"message":...,"type":...,"param":...,"code":...}}}.
 *
 * <p>Thread-safe. Messages must already be safe for clients: never a key, a stack trace or a raw
 * upstream body.
 */
public final class ErrorResponses {

    private static final JsonFactory JSON = new JsonFactory();
    private static final Headers JSON_HEADERS = Headers.of("content-type", "application/json");

    private ErrorResponses() {
    }

    /** Returns a response of {@code kind} with {@code message} and no code or param. */
    public static GatewayResponse.Full of(ErrorKind kind, String message) {
        return of(kind, message, null, null);
    }

    /**
     * Returns a response of {@code kind}.
     *
     * @param code  OpenAI's machine-readable {@code error.code} (e.g. {@code model_not_found}), or {@code null}
     * @param param the request field at fault, or {@code null}
     */
    public static GatewayResponse.Full of(ErrorKind kind, String message, String code, String param) {
        return new GatewayResponse.Full(kind.status(), JSON_HEADERS, body(kind.type(), message, code, param));
    }

    /** Returns the envelope's bytes for an arbitrary {@code type}, e.g. one an upstream used. */
    public static byte[] body(String type, String message, String code, String param) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128 + message.length());
        try (JsonGenerator gen = JSON.createGenerator(out)) {
            gen.writeStartObject();
            gen.writeObjectFieldStart("error");
            gen.writeStringField("message", message);
            gen.writeStringField("type", type);
            gen.writeStringField("param", param);
            gen.writeStringField("code", code);
            gen.writeEndObject();
            gen.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
