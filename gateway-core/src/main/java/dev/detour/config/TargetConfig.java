package dev.detour.config;

import java.util.Map;
import java.util.Objects;

/**
 * One place a route can send a request to.
 *
 * @param provider name of a provider in {@code providers}
 * @param model    the model name sent upstream
 * @param weight   share of traffic under the {@code weighted} route strategy
 * @param params   request fields set on every request to this target, overriding the client's
 *                 (e.g. {@code temperature}); values are YAML scalars, lists or mappings
 */
public record TargetConfig(String provider, String model, int weight, Map<String, Object> params) {

    public TargetConfig {
        Objects.requireNonNull(provider, "provider");
        Objects.requireNonNull(model, "model");
        params = Map.copyOf(params);
        if (weight < 1) {
            throw new IllegalArgumentException("weight: " + weight + " (expected: >= 1)");
        }
    }

    /** Returns a target of weight 1 without parameter overrides. */
    public TargetConfig(String provider, String model) {
        this(provider, model, 1, Map.of());
    }
}
