package dev.detour.config;

import java.util.Objects;
import java.util.OptionalInt;

/**
 * The place of a built-in filter in the chain.
 *
 * @param name    the filter's name: {@code auth}, {@code policy}, {@code rate-limit}
 * @param enabled whether it runs
 * @param order   its position (lower runs earlier), or empty for its default
 */
public record FilterConfig(String name, boolean enabled, OptionalInt order) {

    public FilterConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(order, "order");
    }
}
