package dev.detour.config;

import java.time.Duration;
import java.util.Objects;

/**
 * When a route target's circuit breaker opens, and for how long.
 *
 * @param consecutiveFailures failures in a row that open it; {@code 0} disables the breaker
 * @param failureRate         share of failures among the last {@code window} outcomes that opens it
 * @param window              how many recent outcomes the rate looks at
 * @param minCalls            outcomes needed before the rate counts
 * @param openFor             how long it stays open before one probe request may pass
 */
public record BreakerConfig(int consecutiveFailures, double failureRate, int window, int minCalls, Duration openFor) {

    public static final BreakerConfig DEFAULT = new BreakerConfig(5, 0.5, 20, 10, Duration.ofSeconds(30));

    public BreakerConfig {
        Objects.requireNonNull(openFor, "openFor");
        if (consecutiveFailures < 0 || window < 1 || minCalls < 1 || minCalls > window
            || failureRate <= 0 || failureRate > 1) {
            throw new IllegalArgumentException("breaker: failures " + consecutiveFailures + ", rate " + failureRate
                                               + ", window " + window + ", min-calls " + minCalls);
        }
    }

    /** Returns whether the breaker is on. */
    public boolean enabled() {
        return consecutiveFailures > 0;
    }
}
