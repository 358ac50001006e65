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
 * @param usage           how the token and cost metrics learn each answer's token usage
 */
public record MetricsConfig(boolean enabled, String path, int port, Optional<String> host, boolean requireAdminKey,
                            Usage usage) {

    public static final String DEFAULT_PATH = "/metrics";

    public MetricsConfig {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(usage, "usage");
        if (!path.startsWith("/") || path.length() < 2) {
            throw new IllegalArgumentException("path: '" + path + "' (expected: an absolute path like /metrics)");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
        }
    }

    /** Returns the defaults: enabled on the main listener at {@code /metrics}, unprotected, reading usage. */
    public static MetricsConfig ofDefault() {
        return new MetricsConfig(true, DEFAULT_PATH, 0, Optional.empty(), false, Usage.READ);
    }

    /** Returns whether metrics are served by a listener of their own. */
    public boolean separateListener() {
        return enabled && port != 0;
    }

    /** How the token and cost metrics learn each answer's token usage. */
    public enum Usage {
        /** Not at all: token and cost metrics count only requests whose usage a limit or quota reads anyway. */
        OFF,
        /** Read the usage an answer carries (every non-streamed answer; streams when the client asked for it). */
        READ,
        /** Read it, and ask OpenAI-compatible providers to add it to streams whose client did not ask for it. */
        REQUEST;

        /** Returns the YAML spelling. */
        public String yamlName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
