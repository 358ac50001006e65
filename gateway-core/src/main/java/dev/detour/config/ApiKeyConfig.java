package dev.detour.config;

import java.util.Objects;
import java.util.Optional;

/**
 * One upstream API key of a provider.
 *
 * @param id          a name shown in logs, headers and admin output instead of the key
 * @param value       the key itself
 * @param weight      share of traffic under the {@code weighted} strategy
 * @param quotaGroup  keys sharing one upstream quota (an OpenAI organisation, a Gemini project): a
 *                    limit signal on one cools them all; empty when the key stands alone
 * @param quotas      local quotas Detour counts for this key
 * @param onExhausted what quota exhaustion does to this key; empty to follow the pool
 */
public record ApiKeyConfig(String id, Secret value, int weight, Optional<String> quotaGroup, KeyQuotas quotas,
                           Optional<ExhaustionMode> onExhausted) {

    public ApiKeyConfig {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(quotaGroup, "quotaGroup");
        Objects.requireNonNull(quotas, "quotas");
        Objects.requireNonNull(onExhausted, "onExhausted");
        if (weight < 1) {
            throw new IllegalArgumentException("weight: " + weight + " (expected: >= 1)");
        }
    }

    /** Returns a plain key: weight 1, no quota group, no local quotas. */
    public ApiKeyConfig(String id, Secret value) {
        this(id, value, 1, Optional.empty(), KeyQuotas.NONE, Optional.empty());
    }
}
