package dev.detour.config;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * How a provider's key pool picks keys and reacts to the provider's signals.
 *
 * @param strategy         how the next key is chosen
 * @param cooldown         cooldown after a 429 without a reset hint; doubles with each further 429 in a row
 * @param maxCooldown      longest cooldown, whatever the hint or the doubling says
 * @param exhaustedFor     how long a key whose quota is exhausted stays out when the provider gives no reset
 * @param onExhausted      what quota exhaustion does to a key, unless the key says otherwise
 */
public record PoolConfig(Strategy strategy, Duration cooldown, Duration maxCooldown, Duration exhaustedFor,
                         ExhaustionMode onExhausted) {

    public static final PoolConfig DEFAULT = new PoolConfig(Strategy.ROUND_ROBIN, Duration.ofSeconds(1),
                                                            Duration.ofMinutes(5), Duration.ofHours(1),
                                                            ExhaustionMode.COOLDOWN);

    public PoolConfig {
        Objects.requireNonNull(strategy, "strategy");
        Objects.requireNonNull(cooldown, "cooldown");
        Objects.requireNonNull(maxCooldown, "maxCooldown");
        Objects.requireNonNull(exhaustedFor, "exhaustedFor");
        Objects.requireNonNull(onExhausted, "onExhausted");
    }

    /** How a pool picks its next key. */
    public enum Strategy {
        /** Each available key in turn. */
        ROUND_ROBIN,
        /** At random, in proportion to each key's weight. */
        WEIGHTED,
        /** The key with the most remaining local quota (fewest requests in its window without quotas). */
        LEAST_USED,
        /** The first available key in file order: a primary, with the rest as backups. */
        ORDERED;

        /** Returns the YAML spelling, e.g. {@code round-robin}. */
        public String yamlName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }
}
