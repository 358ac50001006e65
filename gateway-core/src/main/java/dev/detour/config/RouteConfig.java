package dev.detour.config;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A client-facing model name and the upstream targets that serve it.
 *
 * @param model    the name clients put in {@code model}
 * @param targets  the targets in priority order; at least one
 * @param timeouts timeouts for this route, or empty to use {@code upstream.timeouts}
 */
public record RouteConfig(String model, List<TargetConfig> targets, Optional<TimeoutsConfig> timeouts) {

    public RouteConfig {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(timeouts, "timeouts");
        targets = List.copyOf(targets);
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("targets: empty (expected: at least one)");
        }
    }
}
