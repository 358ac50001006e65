package dev.detour.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationTextTest {

    private static final long MS = 1_000_000L;
    private static final long S = 1_000_000_000L;

    @Test
    void writesGoDurationsRoundedUpToTheMillisecond() {
        assertEquals("0s", DurationText.go(0));
        assertEquals("1ms", DurationText.go(1));
        assertEquals("20ms", DurationText.go(20 * MS));
        assertEquals("21ms", DurationText.go(20 * MS + 1));
        assertEquals("999ms", DurationText.go(999 * MS));
        assertEquals("1s", DurationText.go(S));
        assertEquals("1.5s", DurationText.go(1500 * MS));
        assertEquals("17.28s", DurationText.go(17_280 * MS));
        assertEquals("1.001s", DurationText.go(S + 1));
        assertEquals("6m0s", DurationText.go(360 * S));
        assertEquals("1m30s", DurationText.go(90 * S));
        assertEquals("1h0m0s", DurationText.go(3600 * S));
        assertEquals("26h3m4.05s", DurationText.go(26 * 3600 * S + 184 * S + 50 * MS));
    }

    @Test
    void writesWaitsForPeopleInWholeSeconds() {
        assertEquals("200ms", DurationText.roughly(200 * MS));
        assertEquals("14s", DurationText.roughly(13 * S + 1));
        assertEquals("1m0s", DurationText.roughly(60 * S));
    }

    @Test
    void writesRefillIntervalsAsRateUnits() {
        assertEquals("/s", DurationText.window(Duration.ofSeconds(1)));
        assertEquals("/min", DurationText.window(Duration.ofMinutes(1)));
        assertEquals("/h", DurationText.window(Duration.ofHours(1)));
        assertEquals("/day", DurationText.window(Duration.ofDays(1)));
        assertEquals(" per 30s", DurationText.window(Duration.ofSeconds(30)));
        assertEquals(" per 1m30s", DurationText.window(Duration.ofSeconds(90)));
        assertEquals(" per 500ms", DurationText.window(Duration.ofMillis(500)));
    }

    @Test
    void roundsRetryAfterUp() {
        assertEquals(1, DurationText.retryAfterSeconds(1));
        assertEquals(1, DurationText.retryAfterSeconds(S));
        assertEquals(2, DurationText.retryAfterSeconds(S + 1));
        assertEquals(1, DurationText.retryAfterMillis(1));
        assertEquals(1001, DurationText.retryAfterMillis(S + 1));
    }
}
