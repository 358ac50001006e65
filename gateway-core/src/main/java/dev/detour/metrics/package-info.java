/**
 * What the gateway's features report for metrics, without depending on a metrics library: routing and rate
 * limiting call {@link dev.detour.metrics.GatewayEvents}; the response cache marks each request with its
 * {@link dev.detour.cache.CacheOutcome} and its counts are read through a {@link dev.detour.metrics.CacheStatsSource}.
 * The server implements these with Micrometer and publishes them on {@code /metrics}; core code and its unit
 * tests use {@link dev.detour.metrics.GatewayEvents#NONE} or a fake.
 */
package dev.detour.metrics;
