package dev.detour.provider;

import dev.detour.filter.GatewayResponse;
import dev.detour.filter.RequestContext;
import java.util.concurrent.CompletionStage;

/**
 * Sends prepared requests to upstreams. Implemented by the server (Netty HTTP client, in-process mock).
 */
@FunctionalInterface
public interface UpstreamTransport {

    /**
     * Sends {@code request} and completes once the response headers are known: with a
     * {@link GatewayResponse.Relayed} for a success whose body is still arriving, with a
     * {@link GatewayResponse.Full} for an upstream error whose body was read, or exceptionally with an
     * {@link UpstreamException}. Called on the request's executor; completes on it.
     */
    CompletionStage<GatewayResponse> send(RequestContext ctx, UpstreamRequest request);
}
