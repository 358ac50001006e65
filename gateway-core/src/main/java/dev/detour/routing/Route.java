package dev.detour.routing;

import dev.detour.config.RouteConfig;
import dev.detour.config.TimeoutsConfig;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A client-facing model name with its resolved targets, in priority order, and how to route among them.
 *
 * @param model           the name clients send
 * @param targets         the targets; at least one
 * @param timeouts        the effective timeouts (route override, else the upstream defaults)
 * @param config          the route's routing settings
 * @param contextFallback the larger-context target, or {@code null}
 */
public record Route(String model, List<Target> targets, TimeoutsConfig timeouts, RouteConfig config,
                    Target contextFallback) {

    public Route {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(timeouts, "timeouts");
        Objects.requireNonNull(config, "config");
        targets = List.copyOf(targets);
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("targets: empty (expected: at least one)");
        }
    }

    /** Returns how long all attempts of one request may take together. */
    public Duration deadline() {
        Duration d = config.deadline();
        return d.isZero() ? timeouts.total() : d;
    }
}
