package dev.detour.config;

import java.util.Objects;

/**
 * One place a route can send a request to.
 *
 * @param provider name of a provider in {@code providers}
 * @param model    the model name sent upstream
 */
public record TargetConfig(String provider, String model) {

    public TargetConfig {
        Objects.requireNonNull(provider, "provider");
        Objects.requireNonNull(model, "model");
    }
}
