package dev.detour.ratelimit;

import dev.detour.filter.RequestContext;

/**
 * Estimates how many LLM tokens a request will cost before it is sent: its prompt plus the completion it
 * allows. Thread-safe.
 */
@FunctionalInterface
interface TokenEstimator {

    /**
     * Returns the estimate for {@code ctx}, whose exact figure may be left for later ({@link TokenEstimate}).
     * Called on the request's executor; never throws.
     */
    TokenEstimate estimate(RequestContext ctx);
}
