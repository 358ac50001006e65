package dev.detour.filter;

import java.util.Objects;

/**
 * What a request ends in: a body Detour holds in memory, or a body relayed from an upstream as it arrives.
 */
public sealed interface GatewayResponse permits GatewayResponse.Full, GatewayResponse.Relayed {

    /** Returns the HTTP status. */
    int status();

    /** Returns the response headers (without hop-by-hop and framing headers, which the server sets). */
    Headers headers();

    /**
     * A response whose whole body is in memory: errors, the model list, mock answers, and upstream
     * error bodies read to be passed on.
     */
    record Full(int status, Headers headers, byte[] body) implements GatewayResponse {
        public Full {
            Objects.requireNonNull(headers, "headers");
            Objects.requireNonNull(body, "body");
        }
    }

    /**
     * A response whose body is still arriving from an upstream. The transport that made it owns the
     * body; core code only passes it along or {@linkplain RelayedBody#abort() aborts} it.
     */
    record Relayed(int status, Headers headers, RelayedBody body) implements GatewayResponse {
        public Relayed {
            Objects.requireNonNull(headers, "headers");
            Objects.requireNonNull(body, "body");
        }
    }

    /**
     * A body that a transport is relaying. Implemented by the server; core code never reads its bytes.
     */
    interface RelayedBody {
        /** Returns whether this body is a {@code text/event-stream}. */
        boolean isEventStream();

        /** Stops the relay and frees what it holds; safe to call more than once. */
        void abort();
    }
}
