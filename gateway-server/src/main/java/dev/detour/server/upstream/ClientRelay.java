package dev.detour.server.upstream;

import dev.detour.filter.GatewayResponse;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;

/**
 * A response body that pushes itself to the client as it arrives: an upstream exchange, or a mock stream.
 *
 * <p>Called on the client channel's event loop only.
 */
public interface ClientRelay extends GatewayResponse.RelayedBody {

    /** Returns the body length the upstream announced, or {@code -1} when it is not known in advance. */
    long contentLength();

    /**
     * Starts writing the body to {@code client}, ending with a {@code LastHttpContent} on success.
     * {@code listener} is called exactly once, unless the relay is {@linkplain #abort() aborted}.
     */
    void start(ChannelHandlerContext client, Listener listener);

    /** Tells the relay that the client can take more data again (backpressure lifted). */
    void resume();

    /** Returns how many body chunks of an event stream were written to the client so far; 0 for other bodies. */
    long chunks();

    /** Hears how a relay ended. */
    interface Listener {
        /** The body was relayed whole; {@code lastWrite} completes when its last part is written. */
        void relayCompleted(ChannelFuture lastWrite, long bytes);

        /**
         * The body broke off after part of it was written; the client must see a terminated response.
         *
         * @param clientMessage what went wrong, fit for the client's error event
         */
        void relayFailed(String clientMessage, long bytes);
    }
}
