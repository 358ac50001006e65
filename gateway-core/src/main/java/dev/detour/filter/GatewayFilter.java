package dev.detour.filter;

import java.util.concurrent.CompletionStage;

/**
 * A member of the request filter chain.
 *
 * <p>Onion model: request-side work happens before {@code next.proceed(ctx)}, response-side work in
 * the returned stage. A filter short-circuits by returning a response without calling {@code next}.
 * A synchronous filter returns a completed stage (or {@code next}'s); an asynchronous one returns a
 * stage that completes later, on any thread: the chain moves back to the request's executor.
 *
 * <p>Filters are stateless, thread-safe singletons; per-request state lives in the
 * {@link RequestContext}. An expected rejection is a response, not an exception.
 */
public interface GatewayFilter {

    /** Returns the position in the chain; lower runs earlier. See {@link FilterOrder}. */
    int order();

    /** Returns a short name, shown in config and logs, and used to break ties in {@link #order()}. */
    String name();

    /** Handles {@code ctx}, calling {@code next} to continue the chain. Called on the request's executor. */
    CompletionStage<GatewayResponse> filter(RequestContext ctx, FilterChain next);
}
