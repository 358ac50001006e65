package dev.detour.provider;

import java.util.Objects;

/**
 * An upstream exchange that failed without an HTTP answer: no connection, no answer in time, or a
 * connection that broke.
 *
 * <p>Carries no stack trace: the kind and message say all that is known.
 */
public final class UpstreamException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final Kind kind;

    /** Creates an exception of {@code kind} with a message fit for logs (no secrets). */
    public UpstreamException(Kind kind, String message) {
        super(message, null, false, false);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    /** Returns what went wrong. */
    public Kind kind() {
        return kind;
    }

    /** The ways an exchange fails. */
    public enum Kind {
        /** No connection could be made; nothing was sent, so another target may take the request. */
        CONNECT,
        /** No response headers within the first-byte timeout. */
        FIRST_BYTE_TIMEOUT,
        /** No body bytes within the idle timeout. */
        IDLE_TIMEOUT,
        /** The whole exchange took longer than the total timeout. */
        TOTAL_TIMEOUT,
        /** The connection closed or reset before the response was complete. */
        CLOSED,
        /** The upstream's answer was not valid HTTP. */
        PROTOCOL;

        /** Returns whether this is one of the timeouts. */
        public boolean isTimeout() {
            return this == FIRST_BYTE_TIMEOUT || this == IDLE_TIMEOUT || this == TOTAL_TIMEOUT;
        }
    }
}
