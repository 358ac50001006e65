package dev.detour.provider.bedrock;

import java.util.Map;
import java.util.Objects;

/**
 * One decoded message of an AWS event stream.
 *
 * @param headers the string-valued headers ({@code :message-type}, {@code :event-type}, {@code :exception-type},
 *                {@code :content-type}, ...); headers of other value types are skipped
 * @param payload the payload bytes (JSON for Bedrock)
 */
record EventStreamMessage(Map<String, String> headers, byte[] payload) {

    EventStreamMessage {
        headers = Map.copyOf(headers);
        Objects.requireNonNull(payload, "payload");
    }

    /** Returns the string header {@code name}, or {@code null}. */
    String header(String name) {
        return headers.get(name);
    }
}
