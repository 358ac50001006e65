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
    private final transient UpstreamVerdict verdict;

    /** Creates an exception of {@code kind} with a message fit for logs (no secrets). */
    public UpstreamException(Kind kind, String message) {
        this(kind, message, null);
    }

    /**
     * Creates an exception of {@code kind} whose cause the adapter classified as {@code verdict}
     * ({@link Kind#STREAM_ERROR}: an error reported inside a stream before anything reached the client).
     */
    public UpstreamException(Kind kind, String message, UpstreamVerdict verdict) {
        super(message, null, false, false);
        this.kind = Objects.requireNonNull(kind, "kind");
        this.verdict = verdict;
    }

    /** Returns what went wrong. */
    public Kind kind() {
        return kind;
    }

    /** Returns how the router should read this failure. */
    public UpstreamVerdict verdict() {
        if (verdict != null) {
            return verdict;
        }
        switch (kind) {
            case CONNECT:
                return UpstreamVerdict.of(UpstreamVerdict.Kind.CONNECT_FAILED, "connect_failed");
            case FIRST_BYTE_TIMEOUT:
            case IDLE_TIMEOUT:
            case TOTAL_TIMEOUT:
                return UpstreamVerdict.of(UpstreamVerdict.Kind.TIMEOUT, kind.name().toLowerCase(java.util.Locale.ROOT));
            default:
                return UpstreamVerdict.of(UpstreamVerdict.Kind.SERVER_ERROR, kind.name().toLowerCase(java.util.Locale.ROOT));
        }
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
        /** The upstream's answer was not valid HTTP, or not the documented format of its dialect. */
        PROTOCOL,
        /** The stream reported an error in-band before anything reached the client. */
        STREAM_ERROR;

        /** Returns whether this is one of the timeouts. */
        public boolean isTimeout() {
            return this == FIRST_BYTE_TIMEOUT || this == IDLE_TIMEOUT || this == TOTAL_TIMEOUT;
        }
    }
}
