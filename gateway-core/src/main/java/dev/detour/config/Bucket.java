package dev.detour.config;

import java.time.Duration;
import java.util.Objects;

/**
 * A token bucket: holds at most {@code capacity} units and refills {@code capacity} units per {@code per},
 * smoothly. A full bucket allows a burst of {@code capacity}.
 *
 * @param capacity the burst size and the amount refilled per interval
 * @param per      the refill interval
 */
public record Bucket(long capacity, Duration per) {

    public Bucket {
        Objects.requireNonNull(per, "per");
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: >= 1)");
        }
        if (per.isZero() || per.isNegative()) {
            throw new IllegalArgumentException("per: " + per + " (expected: > 0)");
        }
    }
}
