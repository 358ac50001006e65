package dev.detour.cache;

import dev.detour.filter.RequestExecutor;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Identical cacheable requests in flight: the first (the leader) goes upstream; the others (followers)
 * wait for its answer to be stored instead of sending the same request N times.
 *
 * <p>Lifecycle of a flight: {@link #join} makes the caller the leader of a new flight, or returns the flight
 * someone else leads. The leader {@linkplain #land lands} it exactly when its exchange ends, with the answer
 * it stored or with {@code null} (an error, an answer not stored, a client gone); landing removes it, so the
 * next identical request finds the stored entry or starts a new flight. A follower waits at most its timeout;
 * then, or when the flight lands without an answer, it goes upstream itself.
 *
 * <p>Concurrency: flights live in a {@link ConcurrentHashMap}; a flight's outcome is a
 * {@link CompletableFuture}, completed once, by the leader's thread or not at all. Nothing blocks: a
 * follower's wait is a future completed by the landing or by a timer on its own executor.
 */
final class SingleFlight {

    private final ConcurrentHashMap<CacheKey, Flight> flights = new ConcurrentHashMap<>();

    /** Returns the flight of {@code key}: a new one the caller leads, or the one in progress. */
    Seat join(CacheKey key) {
        Flight mine = new Flight();
        Flight current = flights.putIfAbsent(key, mine);
        return current == null ? new Seat(mine, true) : new Seat(current, false);
    }

    /** Ends {@code flight} with {@code answer} ({@code null}: nothing stored); idempotent. */
    void land(CacheKey key, Flight flight, CachedAnswer answer) {
        flights.remove(key, flight);
        flight.outcome.complete(answer);
    }

    /**
     * Returns a future that completes with the flight's answer, or with {@code null} when it lands without
     * one or when {@code timeoutNanos} pass first (the timer runs on {@code executor}).
     */
    CompletableFuture<CachedAnswer> await(Flight flight, RequestExecutor executor, long timeoutNanos) {
        CompletableFuture<CachedAnswer> waiter = new CompletableFuture<>();
        RequestExecutor.Cancellable timer = executor.schedule(() -> waiter.complete(null), timeoutNanos);
        flight.outcome.whenComplete((answer, error) -> {
            timer.cancel();
            waiter.complete(error == null ? answer : null);
        });
        return waiter;
    }

    /** Returns how many flights are in progress. */
    int size() {
        return flights.size();
    }

    /** One upstream call that identical requests wait for. */
    static final class Flight {
        private final CompletableFuture<CachedAnswer> outcome = new CompletableFuture<>();

        /** Returns whether it has landed. */
        boolean landed() {
            return outcome.isDone();
        }
    }

    /**
     * A place on a flight.
     *
     * @param flight the flight
     * @param leader whether the caller leads it (sends the request and lands it)
     */
    record Seat(Flight flight, boolean leader) {
    }
}
