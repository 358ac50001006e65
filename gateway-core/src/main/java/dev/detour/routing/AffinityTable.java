package dev.detour.routing;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;

/**
 * Remembers which target and key served a session, so that its next requests go there again while
 * that key is healthy and the provider's prompt cache keeps hitting.
 *
 * <p>Bounded and self-cleaning: idle sessions expire. Thread-safe.
 */
final class AffinityTable {

    private static final int MAX_SESSIONS = 100_000;
    private static final Duration IDLE = Duration.ofHours(1);

    private final Cache<String, Pin> pins = Caffeine.newBuilder()
            .maximumSize(MAX_SESSIONS)
            .expireAfterAccess(IDLE)
            .build();

    /** Where a session was served last. */
    record Pin(Target target, String keyId) {
    }

    Pin get(Route route, String session) {
        return pins.getIfPresent(key(route, session));
    }

    void put(Route route, String session, Target target, String keyId) {
        Pin old = pins.getIfPresent(key(route, session));
        if (old == null || old.target() != target || !old.keyId().equals(keyId)) {
            pins.put(key(route, session), new Pin(target, keyId));
        }
    }

    private static String key(Route route, String session) {
        return route.model() + '\u0000' + session;
    }
}
