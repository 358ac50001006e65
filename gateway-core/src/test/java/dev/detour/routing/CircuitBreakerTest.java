package dev.detour.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.config.BreakerConfig;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {

    private static final long SECOND = 1_000_000_000L;
    private long now = 100 * SECOND;

    private final CircuitBreaker breaker = new CircuitBreaker("t",
            new BreakerConfig(3, 0.5, 10, 6, Duration.ofSeconds(30)));

    @Test
    void opensAfterConsecutiveFailures() {
        breaker.onFailure(now);
        breaker.onFailure(now);
        assertTrue(breaker.allows(now));

        breaker.onFailure(now);

        assertEquals(CircuitBreaker.State.OPEN, breaker.state(now));
        assertFalse(breaker.tryAcquire(now));
        assertEquals(now + 30 * SECOND, breaker.allowsFrom(now));
    }

    @Test
    void opensOnFailureRateAcrossTheWindow() {
        for (int i = 0; i < 3; i++) {
            breaker.onSuccess();
            breaker.onFailure(now);
        }

        assertEquals(CircuitBreaker.State.OPEN, breaker.state(now), "3 of 6 failed, at the 50% threshold");
    }

    @Test
    void halfOpenLetsOneProbeThrough() {
        open();
        now += 30 * SECOND;

        assertEquals(CircuitBreaker.State.HALF_OPEN, breaker.state(now));
        assertTrue(breaker.tryAcquire(now));
        assertFalse(breaker.tryAcquire(now), "a second request waits for the probe");
    }

    @Test
    void successfulProbeCloses() {
        open();
        now += 30 * SECOND;
        breaker.tryAcquire(now);

        breaker.onSuccess();

        assertEquals(CircuitBreaker.State.CLOSED, breaker.state(now));
        assertTrue(breaker.tryAcquire(now));
    }

    @Test
    void failedProbeReopens() {
        open();
        now += 30 * SECOND;
        breaker.tryAcquire(now);

        breaker.onFailure(now);

        assertEquals(CircuitBreaker.State.OPEN, breaker.state(now));
        assertEquals(now + 30 * SECOND, breaker.allowsFrom(now));
    }

    @Test
    void releasedProbeLetsTheNextRequestProbe() {
        open();
        now += 30 * SECOND;
        breaker.tryAcquire(now);

        breaker.release(now);

        assertTrue(breaker.tryAcquire(now));
    }

    @Test
    void unansweredProbeTimesOut() {
        open();
        now += 30 * SECOND;
        breaker.tryAcquire(now);

        now += 30 * SECOND;

        assertTrue(breaker.tryAcquire(now));
    }

    @Test
    void disabledBreakerNeverOpens() {
        CircuitBreaker off = new CircuitBreaker("off", new BreakerConfig(0, 0.5, 10, 6, Duration.ofSeconds(30)));

        for (int i = 0; i < 100; i++) {
            off.onFailure(now);
        }

        assertTrue(off.tryAcquire(now));
    }

    private void open() {
        for (int i = 0; i < 3; i++) {
            breaker.onFailure(now);
        }
    }
}
