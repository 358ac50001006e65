package dev.detour.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Waits for a count the server updates after the client has its answer: accounting that runs once the last byte
 * is written (usage, cache capture) may land just after the client has read that byte.
 *
 * <p>The deadline is generous on purpose: it only matters when something is wrong, and a busy CI machine may not
 * schedule the thread that does the counting for a while.
 */
public final class Eventually {

    private static final long DEADLINE_NANOS = TimeUnit.SECONDS.toNanos(15);

    private Eventually() {
    }

    /** Asserts that {@code count} reaches {@code expected} within 15 seconds and stays at it (not above). */
    public static void assertCount(long expected, LongSupplier count, String what) {
        long deadline = System.nanoTime() + DEADLINE_NANOS;
        while (count.getAsLong() < expected && System.nanoTime() < deadline) {
            pause(what);
        }
        assertEquals(expected, count.getAsLong(), what);
    }

    /**
     * Waits (at most 15 seconds) until {@code condition} holds; fails with {@code state}, which should say what was
     * seen instead, when it does not.
     */
    public static void assertThat(BooleanSupplier condition, Supplier<String> state) {
        long deadline = System.nanoTime() + DEADLINE_NANOS;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() >= deadline) {
                throw new AssertionError("not within 15 s: " + state.get());
            }
            pause("a condition");
        }
    }

    private static void pause(String what) {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + what, e);
        }
    }
}
