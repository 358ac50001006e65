package dev.detour.routing;

import dev.detour.config.BreakerConfig;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The circuit breaker of one route target: opens after consecutive failures or a failure rate, stays
 * open for a while, then lets a single probe request through (half-open) whose outcome closes or
 * reopens it.
 *
 * <p>Only the target's own failures count (5xx, overload, timeouts, refused connections); rate limits
 * and quota signals are about keys, and client errors are about the request.
 *
 * <p>Thread-safe and lock-free: the state is an immutable snapshot swapped with compare-and-set; the
 * recent outcomes are a ring of 0/1 cells.
 */
public final class CircuitBreaker {

    private static final Logger LOG = LoggerFactory.getLogger(CircuitBreaker.class);

    private final String name;
    private final BreakerConfig config;
    private final AtomicReference<Snapshot> state = new AtomicReference<>(Snapshot.CLOSED);
    private final AtomicIntegerArray ring;
    private final AtomicInteger cursor = new AtomicInteger();
    private final AtomicInteger recorded = new AtomicInteger();

    CircuitBreaker(String name, BreakerConfig config) {
        this.name = name;
        this.config = config;
        this.ring = new AtomicIntegerArray(config.window());
    }

    /** Returns the breaker's settings. */
    BreakerConfig config() {
        return config;
    }

    /** Returns whether the breaker can open at all ({@code failures: 0} turns it off). */
    public boolean enabled() {
        return config.enabled();
    }

    /** The breaker's states. */
    public enum State { CLOSED, OPEN, HALF_OPEN }

    private record Snapshot(State state, long openUntil, int consecutiveFailures) {
        static final Snapshot CLOSED = new Snapshot(State.CLOSED, 0, 0);
    }

    /** Returns the state at {@code now}: an open breaker whose time is up reads as half-open. */
    public State state(long now) {
        Snapshot s = state.get();
        if (s.state == State.OPEN && now - s.openUntil >= 0) {
            return State.HALF_OPEN;
        }
        return s.state;
    }

    /** Returns whether a request could pass at {@code now}, without taking the probe. */
    public boolean allows(long now) {
        if (!config.enabled()) {
            return true;
        }
        Snapshot s = state.get();
        return s.state == State.CLOSED || s.state == State.OPEN && now - s.openUntil >= 0;
    }

    /**
     * Lets a request pass if the breaker allows it; in half-open state only one request, the probe,
     * passes until it reports.
     */
    public boolean tryAcquire(long now) {
        if (!config.enabled()) {
            return true;
        }
        while (true) {
            Snapshot s = state.get();
            switch (s.state) {
                case CLOSED:
                    return true;
                case OPEN:
                    if (now - s.openUntil < 0) {
                        return false;
                    }
                    // Time is up: this request probes. A probe that never reports is retried after openFor.
                    Snapshot probing = new Snapshot(State.HALF_OPEN, now + config.openFor().toNanos(),
                                                    s.consecutiveFailures);
                    if (state.compareAndSet(s, probing)) {
                        return true;
                    }
                    break;
                default: // HALF_OPEN: a probe is under way
                    if (now - s.openUntil < 0) {
                        return false;
                    }
                    if (state.compareAndSet(s, new Snapshot(State.HALF_OPEN, now + config.openFor().toNanos(),
                                                            s.consecutiveFailures))) {
                        return true;
                    }
                    break;
            }
        }
    }

    /** Returns when the breaker will let a probe through, or {@code now} if it lets requests through. */
    public long allowsFrom(long now) {
        Snapshot s = state.get();
        return s.state == State.CLOSED || !config.enabled() || now - s.openUntil >= 0 ? now : s.openUntil;
    }

    /** Records a success: closes a half-open breaker. */
    public void onSuccess() {
        record(0);
        while (true) {
            Snapshot s = state.get();
            if (s.state == State.CLOSED && s.consecutiveFailures == 0) {
                return;
            }
            if (s.state == State.OPEN) {
                return; // a late answer from before it opened says nothing about now
            }
            if (state.compareAndSet(s, Snapshot.CLOSED)) {
                if (s.state == State.HALF_OPEN) {
                    LOG.info("circuit breaker of {} closed: its probe request succeeded", name);
                }
                return;
            }
        }
    }

    /** Records a failure of the target at {@code now}: may open the breaker. */
    public void onFailure(long now) {
        if (!config.enabled()) {
            return;
        }
        record(1);
        while (true) {
            Snapshot s = state.get();
            int failures = s.consecutiveFailures + 1;
            Snapshot next;
            if (s.state == State.HALF_OPEN || s.state == State.CLOSED && tripped(failures)) {
                next = new Snapshot(State.OPEN, now + config.openFor().toNanos(), failures);
            } else {
                next = new Snapshot(s.state, s.openUntil, failures);
            }
            if (state.compareAndSet(s, next)) {
                if (next.state == State.OPEN && s.state != State.OPEN) {
                    LOG.warn("circuit breaker of {} opened for {} ms after {} failures in a row", name,
                             config.openFor().toMillis(), failures);
                }
                return;
            }
        }
    }

    /** Gives back a probe that was taken but not used (no key could be found for it). */
    public void release(long now) {
        Snapshot s = state.get();
        if (s.state == State.HALF_OPEN) {
            state.compareAndSet(s, new Snapshot(State.OPEN, now, s.consecutiveFailures));
        }
    }

    private boolean tripped(int consecutive) {
        if (consecutive >= config.consecutiveFailures()) {
            return true;
        }
        int n = Math.min(recorded.get(), config.window());
        if (n < config.minCalls()) {
            return false;
        }
        int failures = 0;
        for (int i = 0; i < n; i++) {
            failures += ring.get(i);
        }
        return failures >= config.failureRate() * n;
    }

    private void record(int failure) {
        int i = Math.floorMod(cursor.getAndIncrement(), config.window());
        ring.set(i, failure);
        if (recorded.get() < config.window()) {
            recorded.incrementAndGet();
        }
    }
}
