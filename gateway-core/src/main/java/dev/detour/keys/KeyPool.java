package dev.detour.keys;

import dev.detour.config.ApiKeyConfig;
import dev.detour.config.Secret;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The API keys of one provider, handed out in turn.
 *
 * <p>Thread-safe and lock-free: one atomic increment per request.
 */
public final class KeyPool {

    /** The key used for providers that need none (the mock, a local vLLM). */
    public static final ApiKeyConfig NO_KEY = new ApiKeyConfig("-", Secret.empty());

    private final String provider;
    private final ApiKeyConfig[] keys;
    private final AtomicInteger cursor = new AtomicInteger();

    private KeyPool(String provider, List<ApiKeyConfig> keys) {
        this.provider = provider;
        this.keys = keys.isEmpty() ? new ApiKeyConfig[] {NO_KEY} : keys.toArray(new ApiKeyConfig[0]);
    }

    /** Returns a pool over {@code keys} of {@code provider}; an empty list yields {@link #NO_KEY}. */
    public static KeyPool of(String provider, List<ApiKeyConfig> keys) {
        return new KeyPool(provider, keys);
    }

    /** Returns the provider name. */
    public String provider() {
        return provider;
    }

    /** Returns the next key, round-robin. */
    public ApiKeyConfig next() {
        if (keys.length == 1) {
            return keys[0];
        }
        return keys[Math.floorMod(cursor.getAndIncrement(), keys.length)];
    }

    /** Returns how many keys there are. */
    public int size() {
        return keys.length;
    }
}
