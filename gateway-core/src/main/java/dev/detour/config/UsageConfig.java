package dev.detour.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Where usage accounting (tokens and spend per client, team, route, key and budget) is kept across restarts.
 *
 * @param dataDir       the directory of the usage file ({@code usage.json}); empty keeps usage in memory only,
 *                      so a restart forgets it and every budget starts again from zero
 * @param flushInterval how often changed usage is written to the file: at most this much accounting is lost
 *                      if the process dies without a graceful stop
 */
public record UsageConfig(Optional<Path> dataDir, Duration flushInterval) {

    /** The default flush interval. */
    public static final Duration DEFAULT_FLUSH_INTERVAL = Duration.ofSeconds(2);
    /** The shortest flush interval accepted: shorter would mostly wear the disk. */
    public static final Duration MIN_FLUSH_INTERVAL = Duration.ofMillis(100);

    public UsageConfig {
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(flushInterval, "flushInterval");
        if (flushInterval.compareTo(MIN_FLUSH_INTERVAL) < 0) {
            throw new IllegalArgumentException("flushInterval: " + flushInterval + " (expected: >= 100ms)");
        }
    }

    /** Returns the defaults: in memory only, flushed every 2 s once a data directory is set. */
    public static UsageConfig ofDefault() {
        return new UsageConfig(Optional.empty(), DEFAULT_FLUSH_INTERVAL);
    }
}
