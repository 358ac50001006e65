package dev.detour.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.detour.filter.Headers;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RetryHintsTest {

    private static final Instant NOW = Instant.parse("2026-11-22T10:00:00Z");

    @Test
    void prefersRetryAfterMsOverRetryAfter() {
        Headers h = Headers.of("retry-after", "7", "retry-after-ms", "1200");

        assertEquals(1_200_000_000L, RetryHints.retryAfter(h, NOW));
    }

    @Test
    void readsAzureRetryAfterMs() {
        assertEquals(250_000_000L, RetryHints.retryAfter(Headers.of("x-ms-retry-after-ms", "250"), NOW));
    }

    @Test
    void readsRetryAfterSecondsWithFraction() {
        assertEquals(1_500_000_000L, RetryHints.retryAfter(Headers.of("Retry-After", "1.5"), NOW));
    }

    @Test
    void readsRetryAfterHttpDate() {
        Headers h = Headers.of("retry-after", "Sun, 22 Nov 2026 10:00:30 GMT");

        assertEquals(30_000_000_000L, RetryHints.retryAfter(h, NOW));
    }

    @Test
    void answersNoHintForGarbage() {
        assertEquals(UpstreamVerdict.NO_HINT, RetryHints.retryAfter(Headers.of("retry-after", "soon"), NOW));
        assertEquals(UpstreamVerdict.NO_HINT, RetryHints.retryAfter(Headers.empty(), NOW));
    }

    @Test
    void parsesGoDurations() {
        assertEquals(20_000_000L, RetryHints.goDuration("20ms"));
        assertEquals(1_000_000_000L, RetryHints.goDuration("1s"));
        assertEquals(7_660_000_000L, RetryHints.goDuration("7.66s"));
        assertEquals(360_000_000_000L, RetryHints.goDuration("6m0s"));
        assertEquals(179_560_000_000L, RetryHints.goDuration("2m59.56s"));
        assertEquals(3_600_000_000_000L, RetryHints.goDuration("1h0m0s"));
        assertEquals(5_000L, RetryHints.goDuration("5us"));
    }

    @Test
    void refusesMalformedGoDurations() {
        assertEquals(UpstreamVerdict.NO_HINT, RetryHints.goDuration("1x"));
        assertEquals(UpstreamVerdict.NO_HINT, RetryHints.goDuration("s"));
        assertEquals(UpstreamVerdict.NO_HINT, RetryHints.goDuration("1s garbage"));
        assertEquals(UpstreamVerdict.NO_HINT, RetryHints.goDuration(null));
    }

    @Test
    void readsWaitFromMessages() {
        assertEquals(1_800_000_000L, RetryHints.fromMessage("Please try again in 1.8s."));
        assertEquals(120_000_000L, RetryHints.fromMessage("Limit 200000. Please try again in 120ms."));
        assertEquals(6_000_000_000L, RetryHints.fromMessage("Please retry after 6 seconds."));
        assertEquals(UpstreamVerdict.NO_HINT, RetryHints.fromMessage("Something else"));
    }
}
