package dev.detour.server;

import dev.detour.filter.AttributeKey;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;

/**
 * The server's own per-request state in a {@link dev.detour.filter.RequestContext}: what the inbound
 * side lends the upstream side. Core code never sees these.
 */
public final class ServerAttributes {

    /** The event loop of the client's connection; upstream connections are made on it. */
    public static final AttributeKey<EventLoop> EVENT_LOOP = AttributeKey.newKey("eventLoop");

    /**
     * The aggregated request body. Owned by the inbound handler until the response ends; an attempt
     * writes a retained duplicate of it, never the buffer itself.
     */
    public static final AttributeKey<ByteBuf> BODY = AttributeKey.newKey("body");

    /** The upstream exchange in progress, so that a client disconnect can cancel it at once. */
    public static final AttributeKey<Cancellable> IN_FLIGHT = AttributeKey.newKey("inFlight");

    private ServerAttributes() {
    }

    /** Something in progress that can be stopped; idempotent. */
    @FunctionalInterface
    public interface Cancellable {
        /** Stops it and frees what it holds. Called on the request's event loop. */
        void cancel();
    }
}
