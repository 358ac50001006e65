package dev.detour.routing;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Live figures of one route target for the {@code least-latency} and {@code least-busy} strategies:
 * an exponentially weighted moving average of time to first byte, and the requests in flight.
 *
 * <p>Thread-safe and lock-free.
 */
public final class TargetStats {

    /** Weight of the newest sample in the moving average. */
    private static final double ALPHA = 0.2;

    private final AtomicLong ewmaBits = new AtomicLong(Double.doubleToRawLongBits(-1));
    private final AtomicInteger inFlight = new AtomicInteger();

    /** Adds a time-to-first-byte sample in nanoseconds. */
    public void recordLatency(long nanos) {
        while (true) {
            long bits = ewmaBits.get();
            double old = Double.longBitsToDouble(bits);
            double next = old < 0 ? nanos : old + ALPHA * (nanos - old);
            if (ewmaBits.compareAndSet(bits, Double.doubleToRawLongBits(next))) {
                return;
            }
        }
    }

    /** Returns the moving average of time to first byte in nanoseconds, or {@code -1} before any sample. */
    public double latencyNanos() {
        return Double.longBitsToDouble(ewmaBits.get());
    }

    /** Counts a request in. */
    public void started() {
        inFlight.incrementAndGet();
    }

    /** Counts a request out. */
    public void finished() {
        inFlight.decrementAndGet();
    }

    /** Returns the requests in flight. */
    public int inFlight() {
        return inFlight.get();
    }
}
