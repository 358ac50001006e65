package dev.detour.config;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A client-facing model name and the upstream targets that serve it.
 *
 * @param model           the name clients put in {@code model}
 * @param targets         the targets; at least one
 * @param timeouts        timeouts for this route, or empty to use {@code upstream.timeouts}
 * @param strategy        in which order targets are tried
 * @param retryOn         which outcomes move a request on to another key or target
 * @param maxAttempts     most upstream attempts for one request
 * @param deadline        most time for all attempts of one request together; zero means the total timeout
 * @param maxWait         longest a request waits for a cooling key when nothing else can serve it sooner
 * @param contextFallback a larger-context target for prompts too long for the others, or empty
 * @param breaker         the circuit breaker of each target
 * @param affinity        what makes requests stick to one key and target
 * @param cache           whether and how the route's answers are cached
 */
public record RouteConfig(String model, List<TargetConfig> targets, Optional<TimeoutsConfig> timeouts,
                          Strategy strategy, Set<RetryTrigger> retryOn, int maxAttempts, Duration deadline,
                          Duration maxWait, Optional<TargetConfig> contextFallback, BreakerConfig breaker,
                          Affinity affinity, RouteCacheConfig cache) {

    public static final int DEFAULT_MAX_ATTEMPTS = 8;
    public static final Duration DEFAULT_MAX_WAIT = Duration.ofSeconds(2);

    public RouteConfig {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(timeouts, "timeouts");
        Objects.requireNonNull(strategy, "strategy");
        Objects.requireNonNull(deadline, "deadline");
        Objects.requireNonNull(maxWait, "maxWait");
        Objects.requireNonNull(contextFallback, "contextFallback");
        Objects.requireNonNull(breaker, "breaker");
        Objects.requireNonNull(affinity, "affinity");
        Objects.requireNonNull(cache, "cache");
        targets = List.copyOf(targets);
        retryOn = retryOn.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(retryOn));
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("targets: empty (expected: at least one)");
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts: " + maxAttempts + " (expected: >= 1)");
        }
    }

    /** Returns a route without a response cache. */
    public RouteConfig(String model, List<TargetConfig> targets, Optional<TimeoutsConfig> timeouts,
                       Strategy strategy, Set<RetryTrigger> retryOn, int maxAttempts, Duration deadline,
                       Duration maxWait, Optional<TargetConfig> contextFallback, BreakerConfig breaker,
                       Affinity affinity) {
        this(model, targets, timeouts, strategy, retryOn, maxAttempts, deadline, maxWait, contextFallback, breaker,
             affinity, RouteCacheConfig.OFF);
    }

    /** Returns a route with the default routing behaviour. */
    public RouteConfig(String model, List<TargetConfig> targets, Optional<TimeoutsConfig> timeouts) {
        this(model, targets, timeouts, Strategy.FALLBACK, RetryTrigger.all(), DEFAULT_MAX_ATTEMPTS, Duration.ZERO,
             DEFAULT_MAX_WAIT, Optional.empty(), BreakerConfig.DEFAULT, Affinity.SESSION);
    }

    /** The order in which a route tries its targets. */
    public enum Strategy {
        /** Priority order, as listed. */
        FALLBACK,
        /** At random in proportion to target weights, the rest as fallbacks. */
        WEIGHTED,
        /** Lowest moving average of time to first byte first. */
        LEAST_LATENCY,
        /** Fewest requests in flight first. */
        LEAST_BUSY;

        /** Returns the YAML spelling, e.g. {@code least-latency}. */
        public String yamlName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** What makes a request stick to the key and target an earlier one used. */
    public enum Affinity {
        /** No affinity. */
        NONE,
        /** The {@code x-detour-session} header. */
        SESSION,
        /** The {@code x-detour-session} header, else the OpenAI {@code user} field. */
        USER;

        /** Returns the YAML spelling. */
        public String yamlName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
