package dev.detour.ratelimit;

import dev.detour.filter.RequestContext;

/**
 * Estimates how many LLM tokens a request will cost before it is sent: its prompt plus the completion it
 * allows. Thread-safe.
 */
@FunctionalInterface
interface TokenEstimator {

    /** Returns the estimate for {@code ctx}, at least 1. Called on the request's executor; never throws. */
    long estimate(RequestContext ctx);
}
