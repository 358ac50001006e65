package dev.detour.config;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A client allowed to call the API.
 *
 * @param name          the client's name, shown in logs and metrics
 * @param keyHash       the SHA-256 of its key
 * @param team          its team, or {@code default}
 * @param tier          its tier, or {@code default}
 * @param allowedModels the models (routes) it may call, as globs; {@code *} for all
 * @param metadata      free-form labels policies can match on
 * @param expires       when the key stops working, or empty
 * @param canOverride   which context headers it may set: {@code user}, {@code session}, {@code priority}, {@code tier}
 * @param limits        limits that apply to this client only (scope client)
 * @param budgets       budgets that apply to this client only (scope client)
 */
public record ClientConfig(String name, KeyHash keyHash, String team, String tier, List<String> allowedModels,
                           Map<String, String> metadata, Optional<Instant> expires, Set<String> canOverride,
                           List<LimitConfig> limits, List<BudgetConfig> budgets) {

    public ClientConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(keyHash, "keyHash");
        Objects.requireNonNull(team, "team");
        Objects.requireNonNull(tier, "tier");
        Objects.requireNonNull(expires, "expires");
        allowedModels = List.copyOf(allowedModels);
        metadata = Map.copyOf(metadata);
        canOverride = Set.copyOf(canOverride);
        limits = List.copyOf(limits);
        budgets = List.copyOf(budgets);
    }

    /** Returns a client without budgets of its own. */
    public ClientConfig(String name, KeyHash keyHash, String team, String tier, List<String> allowedModels,
                        Map<String, String> metadata, Optional<Instant> expires, Set<String> canOverride,
                        List<LimitConfig> limits) {
        this(name, keyHash, team, tier, allowedModels, metadata, expires, canOverride, limits, List.of());
    }
}
