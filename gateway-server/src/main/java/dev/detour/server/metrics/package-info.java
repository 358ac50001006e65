/**
 * Prometheus metrics: {@link dev.detour.server.metrics.GatewayMetrics} keeps the meters (Micrometer, one registry
 * per server) and hears the core's {@link dev.detour.metrics.GatewayEvents}; {@code StateCollector} reads key pools,
 * circuit breakers, upstream connections and the cache when scraped; {@link dev.detour.server.metrics.MetricsEndpoint}
 * answers a scrape on the main listener or on {@link dev.detour.server.metrics.MetricsListener}'s port. Names and
 * labels are documented in {@code docs/metrics.md}.
 */
package dev.detour.server.metrics;
