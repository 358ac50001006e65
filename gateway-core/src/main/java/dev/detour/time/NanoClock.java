package dev.detour.time;

import java.time.Instant;

/**
 * The time source of everything that reads time: a monotonic nanosecond counter for intervals and
 * deadlines, and wall-clock time for dates providers send. Injected, in the spirit of Caffeine's
 * {@code Ticker}, so that tests advance a fake clock instead of sleeping.
 */
public interface NanoClock {

    /** The system clock. */
    NanoClock SYSTEM = new NanoClock() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public Instant instant() {
            return Instant.now();
        }
    };

    /** Returns a monotonic time in nanoseconds; only differences mean anything. */
    long nanoTime();

    /** Returns the current wall-clock time. */
    Instant instant();
}
