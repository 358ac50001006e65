package dev.detour.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.api.Endpoint;
import dev.detour.testing.FakeClock;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class SingleFlightTest {

    private final FakeClock clock = new FakeClock();
    private final SingleFlight flights = new SingleFlight();

    @Test
    void makesTheFirstCallerLeaderAndTheOthersFollowers() throws IOException {
        SingleFlight.Seat first = flights.join(ResponseCacheTest.key(1));
        SingleFlight.Seat second = flights.join(ResponseCacheTest.key(1));
        SingleFlight.Seat other = flights.join(ResponseCacheTest.key(2));

        assertTrue(first.leader());
        assertFalse(second.leader());
        assertSame(first.flight(), second.flight());
        assertTrue(other.leader(), "another key is another flight");
    }

    @Test
    void givesFollowersTheLeadersAnswerAndEndsTheFlight() throws IOException {
        CacheKey key = ResponseCacheTest.key(1);
        SingleFlight.Seat lead = flights.join(key);
        CompletableFuture<CachedAnswer> waiting = flights.await(flights.join(key).flight(), clock.executor(),
                                                                 1_000_000);
        CachedAnswer answer = new CachedAnswer(Endpoint.CHAT_COMPLETIONS, new byte[1], true, 0, 1, 0);

        flights.land(key, lead.flight(), answer);

        assertSame(answer, waiting.getNow(null));
        assertEquals(0, flights.size());
        assertEquals(0, clock.pendingTasks(), "the follower's timer is cancelled");
        assertTrue(flights.join(key).leader(), "a landed flight is gone: the next caller leads a new one");
    }

    @Test
    void releasesFollowersWithNothingWhenTheLeaderStoredNothing() throws IOException {
        CacheKey key = ResponseCacheTest.key(1);
        SingleFlight.Seat lead = flights.join(key);
        CompletableFuture<CachedAnswer> waiting = flights.await(flights.join(key).flight(), clock.executor(),
                                                                 1_000_000);

        flights.land(key, lead.flight(), null);
        flights.land(key, lead.flight(), null);

        assertTrue(waiting.isDone());
        assertNull(waiting.join());
    }

    @Test
    void releasesAFollowerWhenItsWaitTimesOut() throws IOException {
        CacheKey key = ResponseCacheTest.key(1);
        SingleFlight.Seat lead = flights.join(key);
        CompletableFuture<CachedAnswer> waiting = flights.await(flights.join(key).flight(), clock.executor(),
                                                                 5_000_000);

        clock.advanceMillis(4);
        assertFalse(waiting.isDone());
        clock.advanceMillis(1);

        assertTrue(waiting.isDone());
        assertNull(waiting.join());
        assertFalse(lead.flight().landed(), "the leader still owns its flight");
    }
}
