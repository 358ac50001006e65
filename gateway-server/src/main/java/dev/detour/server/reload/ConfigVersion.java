package dev.detour.server.reload;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Which config a snapshot was built from: a counter that grows with each applied reload, the SHA-256 of the
 * file's text, where it was read from and when it was loaded.
 *
 * @param number   1 for the config the gateway started with, then one more per applied reload
 * @param sha256   lowercase hex SHA-256 of the file's text (UTF-8, without a byte-order mark); empty for a
 *                 config given in memory
 * @param source   the file as given on the command line, or the name of an in-memory config
 * @param loadedAt when this version was loaded
 */
public record ConfigVersion(long number, Optional<String> sha256, String source, Instant loadedAt) {

    public ConfigVersion {
        Objects.requireNonNull(sha256, "sha256");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(loadedAt, "loadedAt");
        if (number < 1) {
            throw new IllegalArgumentException("number: " + number + " (expected: >= 1)");
        }
    }

    /** Returns the next version, loaded from {@code loaded}'s text at {@code at}. */
    public ConfigVersion next(ConfigSource.Loaded loaded, Instant at) {
        return new ConfigVersion(number + 1, Optional.of(loaded.sha256()), source, at);
    }

    /** Returns e.g. {@code 3 (sha256 1f2e3d4c5b6a)}, for logs. */
    public String describe() {
        return number + sha256.map(s -> " (sha256 " + s.substring(0, 12) + ")").orElse("");
    }
}
