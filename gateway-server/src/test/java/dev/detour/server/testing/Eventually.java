package dev.detour.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Waits for a count the server updates after the client has its answer: accounting that runs once the last byte
 * is written (usage, cache capture) may land just after the client has read that byte.
 */
public final class Eventually {

    private static final long DEADLINE_NANOS = TimeUnit.SECONDS.toNanos(5);

    private Eventually() {
    }

    /** Asserts that {@code count} reaches {@code expected} within five seconds and stays at it (not above). */
    public static void assertCount(long expected, LongSupplier count, String what) {
        long deadline = System.nanoTime() + DEADLINE_NANOS;
        while (count.getAsLong() < expected && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + what, e);
            }
        }
        assertEquals(expected, count.getAsLong(), what);
    }
}
