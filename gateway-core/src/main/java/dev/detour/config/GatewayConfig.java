package dev.detour.config;

import dev.detour.catalog.ModelInfo;
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
 * @param chain     clients, limits, policies and the filter order
 * @param models    rows that correct or extend the built-in model catalog ({@code models} in YAML), complete and
 *                  in file order; see {@code dev.detour.catalog.ModelCatalog#withOverrides}
 * @param usage     where usage accounting is persisted ({@code usage})
 * @param cache     the response cache's global settings ({@code cache}); routes turn it on
 * @param metrics   the Prometheus endpoint
 */
public record GatewayConfig(
        String source,
        ServerConfig server,
        UpstreamConfig upstream,
        LoggingConfig logging,
        Map<String, ProviderConfig> providers,
        List<RouteConfig> routes,
        ChainConfig chain,
        List<ModelInfo> models,
        UsageConfig usage,
        CacheConfig cache,
        MetricsConfig metrics) {

    public GatewayConfig {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(usage, "usage");
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(upstream, "upstream");
        Objects.requireNonNull(logging, "logging");
        Objects.requireNonNull(chain, "chain");
        Objects.requireNonNull(cache, "cache");
        Objects.requireNonNull(metrics, "metrics");
        providers = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(providers));
        routes = List.copyOf(routes);
        models = List.copyOf(models);
    }

    /** Returns a config without clients, limits or policies. */
    public GatewayConfig(String source, ServerConfig server, UpstreamConfig upstream, LoggingConfig logging,
                         Map<String, ProviderConfig> providers, List<RouteConfig> routes) {
        this(source, server, upstream, logging, providers, routes, ChainConfig.ofDefault());
    }

    /** Returns a config without catalog overrides. */
    public GatewayConfig(String source, ServerConfig server, UpstreamConfig upstream, LoggingConfig logging,
                         Map<String, ProviderConfig> providers, List<RouteConfig> routes, ChainConfig chain) {
        this(source, server, upstream, logging, providers, routes, chain, List.of());
    }

    /** Returns a config with usage kept in memory only and the default cache and metrics settings. */
    public GatewayConfig(String source, ServerConfig server, UpstreamConfig upstream, LoggingConfig logging,
                         Map<String, ProviderConfig> providers, List<RouteConfig> routes, ChainConfig chain,
                         List<ModelInfo> models) {
        this(source, server, upstream, logging, providers, routes, chain, models, UsageConfig.ofDefault(),
             CacheConfig.ofDefault(), MetricsConfig.ofDefault());
    }

    /** Returns a copy listening on {@code port}. */
    public GatewayConfig withPort(int port) {
        return new GatewayConfig(source, server.withPort(port), upstream, logging, providers, routes, chain, models,
                                 usage, cache, metrics);
    }

}
