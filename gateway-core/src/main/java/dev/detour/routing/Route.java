package dev.detour.routing;

import dev.detour.config.TimeoutsConfig;
import java.util.List;
import java.util.Objects;

/**
 * A client-facing model name with its resolved targets, in priority order.
 *
 * @param model    the name clients send
 * @param targets  the targets; at least one
 * @param timeouts the effective timeouts (route override, else the upstream defaults)
 */
public record Route(String model, List<Target> targets, TimeoutsConfig timeouts) {

    public Route {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(timeouts, "timeouts");
        targets = List.copyOf(targets);
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("targets: empty (expected: at least one)");
        }
    }
}
