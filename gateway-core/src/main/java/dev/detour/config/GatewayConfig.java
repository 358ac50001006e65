package dev.detour.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The whole gateway configuration: one immutable snapshot, loaded by {@link ConfigLoader}.
 *
 * @param source    the file this snapshot was read from, or {@code null}-free placeholder {@code <memory>}
 * @param server    listener, limits and timeouts of the inbound side
 * @param upstream  defaults for every upstream: timeouts and the connection pool
 * @param logging   access-log settings
 * @param providers providers by name, in file order
 * @param routes    routes in file order; each client-facing model name appears once
 */
public record GatewayConfig(
        String source,
        ServerConfig server,
        UpstreamConfig upstream,
        LoggingConfig logging,
        Map<String, ProviderConfig> providers,
        List<RouteConfig> routes) {

    public GatewayConfig {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(upstream, "upstream");
        Objects.requireNonNull(logging, "logging");
        providers = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(providers));
        routes = List.copyOf(routes);
    }

    /** Returns the file name to show in messages, or {@code <memory>}. */
    public static String describe(Path file) {
        return file == null ? "<memory>" : file.toString();
    }
}
