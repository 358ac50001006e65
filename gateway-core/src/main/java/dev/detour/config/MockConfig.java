package dev.detour.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Behaviour of the built-in {@code mock} provider.
 *
 * @param latency             delay before the response headers
 * @param tokensPerSecond     pace of streamed tokens; {@code 0} sends every chunk at once
 * @param embeddingDimensions length of generated embedding vectors when the request names none
 * @param failures            scripted failures, per key
 */
public record MockConfig(Duration latency, int tokensPerSecond, int embeddingDimensions,
                         List<MockFailureConfig> failures) {

    public static final MockConfig DEFAULT = new MockConfig(Duration.ZERO, 0, 16, List.of());

    public MockConfig {
        Objects.requireNonNull(latency, "latency");
        failures = List.copyOf(failures);
        if (tokensPerSecond < 0) {
            throw new IllegalArgumentException("tokensPerSecond: " + tokensPerSecond + " (expected: >= 0)");
        }
        if (embeddingDimensions < 1) {
            throw new IllegalArgumentException("embeddingDimensions: " + embeddingDimensions + " (expected: > 0)");
        }
    }
}
