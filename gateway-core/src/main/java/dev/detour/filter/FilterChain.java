package dev.detour.filter;

import java.util.concurrent.CompletionStage;

/**
 * The rest of the chain after the calling filter.
 */
@FunctionalInterface
public interface FilterChain {

    /** Passes {@code ctx} to the next filter and returns its eventual response. */
    CompletionStage<GatewayResponse> proceed(RequestContext ctx);
}
