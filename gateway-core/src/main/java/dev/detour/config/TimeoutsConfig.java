package dev.detour.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Timeouts of one upstream exchange. A zero duration disables that timeout.
 *
 * @param connect   TCP (and TLS) connection establishment
 * @param firstByte from the request sent until the response headers arrive
 * @param idle      longest silence between two chunks of a response body (streams)
 * @param total     the whole exchange, from the first connection attempt to the last byte
 */
public record TimeoutsConfig(Duration connect, Duration firstByte, Duration idle, Duration total) {

    public static final TimeoutsConfig DEFAULT = new TimeoutsConfig(
            Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofMinutes(10));

    public TimeoutsConfig {
        Objects.requireNonNull(connect, "connect");
        Objects.requireNonNull(firstByte, "firstByte");
        Objects.requireNonNull(idle, "idle");
        Objects.requireNonNull(total, "total");
    }
}
