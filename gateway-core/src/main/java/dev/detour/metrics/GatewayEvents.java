package dev.detour.metrics;

import dev.detour.config.LimitConfig;
import dev.detour.config.RetryTrigger;
import dev.detour.provider.UpstreamVerdict;

/**
 * Hears what happens inside the filter chain that a request's final status cannot tell: each upstream attempt
 * and how it ended, each move to another key or target and why, each rate-limit refusal.
 *
 * <p>Every argument is a name from the configuration (route, provider, upstream model, limit) or an enum, so an
 * implementation can use them as metric labels without bounding them again. Methods are called on request
 * threads (event loops) in the hot path: implementations must be thread-safe, must not block and should not
 * allocate. Every method does nothing by default.
 */
public interface GatewayEvents {

    /** Hears nothing. */
    GatewayEvents NONE = new GatewayEvents() {
    };

    /**
     * An attempt at {@code provider}'s {@code model} for {@code route} ended with {@code outcome}
     * ({@link UpstreamVerdict.Kind#SUCCESS} when it was served). Attempts the client abandoned are not reported.
     */
    default void attemptEnded(String route, String provider, String model, UpstreamVerdict.Kind outcome) {
    }

    /**
     * The request tries another key of the same target ({@code provider}'s {@code model}) after an attempt there
     * ended with an outcome counted as {@code reason}; waits for a cooling key are part of it.
     */
    default void retried(String route, String provider, String model, RetryTrigger reason) {
    }

    /**
     * The request leaves {@code provider}'s {@code model} for another target of {@code route} after an attempt
     * ended with an outcome counted as {@code reason}.
     */
    default void fellBack(String route, String provider, String model, RetryTrigger reason) {
    }

    /**
     * The limit named {@code limit}, kept per {@code scope}, refused a request; with {@code shadow}, it would have
     * refused it but let it pass (shadow mode).
     */
    default void rateLimited(String limit, LimitConfig.Scope scope, boolean shadow) {
    }
}
