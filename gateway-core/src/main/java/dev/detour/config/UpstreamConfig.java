package dev.detour.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Settings shared by every upstream.
 *
 * @param timeouts               default timeouts; a route may override them
 * @param maxIdleConnections     idle keep-alive connections kept per upstream origin and event loop
 * @param poolIdleTimeout        an idle pooled connection unused this long is closed
 * @param maxErrorBodySize       largest upstream error body Detour reads to pass it on; larger ones are cut
 * @param caFile                 PEM file of the certificate authorities HTTPS upstreams are verified against,
 *                               instead of the JDK's trust store; empty to use the JDK's
 */
public record UpstreamConfig(TimeoutsConfig timeouts, int maxIdleConnections, Duration poolIdleTimeout,
                             int maxErrorBodySize, Optional<Path> caFile) {

    public static final int DEFAULT_MAX_IDLE_CONNECTIONS = 64;
    public static final Duration DEFAULT_POOL_IDLE_TIMEOUT = Duration.ofSeconds(60);
    public static final int DEFAULT_MAX_ERROR_BODY_SIZE = 1024 * 1024;

    public UpstreamConfig {
        Objects.requireNonNull(timeouts, "timeouts");
        Objects.requireNonNull(poolIdleTimeout, "poolIdleTimeout");
        Objects.requireNonNull(caFile, "caFile");
        if (maxIdleConnections < 0) {
            throw new IllegalArgumentException("maxIdleConnections: " + maxIdleConnections + " (expected: >= 0)");
        }
    }

    /** Returns the defaults. */
    public static UpstreamConfig ofDefault() {
        return new UpstreamConfig(TimeoutsConfig.DEFAULT, DEFAULT_MAX_IDLE_CONNECTIONS, DEFAULT_POOL_IDLE_TIMEOUT,
                                  DEFAULT_MAX_ERROR_BODY_SIZE, Optional.empty());
    }
}
