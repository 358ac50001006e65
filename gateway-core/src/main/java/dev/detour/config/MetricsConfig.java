package dev.detour.config;

import java.util.Objects;
import java.util.Optional;

/**
 * The Prometheus endpoint.
 *
 * @param enabled         whether metrics are kept and served at all
 * @param path            where they are served, e.g. {@code /metrics}
 * @param port            {@code 0} to serve them on the main listener; otherwise a separate listener on this port
 * @param host            the separate listener's address; empty: {@code server.host}
 * @param requireAdminKey whether a scrape must present an admin key ({@code auth.admin-keys}), as {@code /admin/*}
 */
public record MetricsConfig(boolean enabled, String path, int port, Optional<String> host, boolean requireAdminKey) {

    public static final String DEFAULT_PATH = "/metrics";

    public MetricsConfig {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(host, "host");
        if (!path.startsWith("/") || path.length() < 2) {
            throw new IllegalArgumentException("path: '" + path + "' (expected: an absolute path like /metrics)");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
        }
    }

    /** Returns the defaults: enabled on the main listener at {@code /metrics}, unprotected. */
    public static MetricsConfig ofDefault() {
        return new MetricsConfig(true, DEFAULT_PATH, 0, Optional.empty(), false);
    }

    /** Returns whether metrics are served by a listener of their own. */
    public boolean separateListener() {
        return enabled && port != 0;
    }
}
