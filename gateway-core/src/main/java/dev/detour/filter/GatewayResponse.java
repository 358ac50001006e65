package dev.detour.filter;

import java.nio.ByteBuffer;
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

        /**
         * Lets {@code observer} see the body's bytes as they go to the client, in OpenAI's format (after any
         * translation), and how the relay ends. Register before the relay starts; several observers may be
         * registered. Returns {@code false} when this body cannot be observed (then {@code observer} is never
         * called).
         */
        default boolean observe(BodyObserver observer) {
            return false;
        }
    }

    /**
     * Sees a relayed body pass, e.g. to keep a copy of a complete answer. Called on the request's executor,
     * never concurrently; after {@link #onComplete()} or {@link #onAbort()}, never again.
     */
    interface BodyObserver {
        /**
         * The next bytes of the body, as the client receives them. {@code bytes} is a read-only view valid
         * only during the call: copy what you keep.
         */
        void onChunk(ByteBuffer bytes);

        /** The body ended normally: the upstream sent all of it. */
        void onComplete();

        /** The body broke off or was abandoned (upstream failure, timeout, client gone); it is incomplete. */
        void onAbort();

        /** Returns an observer that passes every call to {@code first}, then to {@code second}. */
        static BodyObserver both(BodyObserver first, BodyObserver second) {
            Objects.requireNonNull(first, "first");
            Objects.requireNonNull(second, "second");
            return new BodyObserver() {
                @Override
                public void onChunk(ByteBuffer bytes) {
                    first.onChunk(bytes.duplicate());
                    second.onChunk(bytes);
                }

                @Override
                public void onComplete() {
                    first.onComplete();
                    second.onComplete();
                }

                @Override
                public void onAbort() {
                    first.onAbort();
                    second.onAbort();
                }
            };
        }
    }
}
