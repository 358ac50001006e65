package dev.detour.routing;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;

/**
 * Remembers which target and key served a session, so that its next requests go there again while
 * that key is healthy and the provider's prompt cache keeps hitting.
 *
 * <p>Pins name the route, provider, upstream model and key id rather than holding config objects, so one table
 * can outlive config versions: a session keeps its place across a reload as long as its route still has a
 * target for that provider and model. Bounded and self-cleaning: idle sessions expire. Thread-safe.
 */
public final class AffinityTable {

    private static final int MAX_SESSIONS = 100_000;
    private static final Duration IDLE = Duration.ofHours(1);

    private final Cache<String, Pin> pins = Caffeine.newBuilder()
            .maximumSize(MAX_SESSIONS)
            .expireAfterAccess(IDLE)
            .build();

    /** Where a session was served last. */
    record Pin(String provider, String model, String keyId) {

        /** Returns the target of {@code candidates} this pin names, or {@code null}. */
        Target find(Iterable<Target> candidates) {
            for (Target t : candidates) {
                if (is(t)) {
                    return t;
                }
            }
            return null;
        }

        boolean is(Target t) {
            return t.provider().name().equals(provider) && t.model().equals(model);
        }
    }

    Pin get(Route route, String session) {
        return pins.getIfPresent(key(route, session));
    }

    void put(Route route, String session, Target target, String keyId) {
        Pin old = pins.getIfPresent(key(route, session));
        if (old == null || !old.is(target) || !old.keyId().equals(keyId)) {
            pins.put(key(route, session), new Pin(target.provider().name(), target.model(), keyId));
        }
    }

    private static String key(Route route, String session) {
        return route.model() + '\u0000' + session;
    }
}
