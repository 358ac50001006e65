package dev.detour.keys;

import dev.detour.config.ApiKeyConfig;
import dev.detour.config.ExhaustionMode;
import dev.detour.config.Secret;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One key of a pool with its live state.
 *
 * <p>Thread-safe and lock-free: the state is an immutable {@link KeyStatus} swapped with
 * compare-and-set, and the local quota counts with compare-and-set too.
 */
public final class PooledKey {

    private final String provider;
    private final ApiKeyConfig config;
    private final QuotaGroup group;
    private final LocalQuota quota;
    private final ExhaustionMode onExhausted;
    private final AtomicReference<KeyStatus> status;

    PooledKey(String provider, ApiKeyConfig config, QuotaGroup group, ExhaustionMode onExhausted,
              boolean countAlways) {
        this(provider, config, group, onExhausted, countAlways, null);
    }

    /**
     * Creates a key that continues {@code previous} (the same key of the previous config version), or a fresh
     * one when {@code previous} is {@code null}. The state object and the quota counts are shared, not copied,
     * so what requests still running on the old version report lands on this key too.
     */
    PooledKey(String provider, ApiKeyConfig config, QuotaGroup group, ExhaustionMode onExhausted,
              boolean countAlways, PooledKey previous) {
        this.provider = provider;
        this.config = config;
        this.group = group;
        this.status = previous != null ? previous.status : new AtomicReference<>(KeyStatus.AVAILABLE);
        // Without quotas, counting is only needed by the least-used strategy.
        boolean counts = config.quotas().any() || countAlways;
        if (!counts) {
            this.quota = null;
        } else if (previous != null && previous.quota != null) {
            this.quota = new LocalQuota(config.quotas(), previous.quota);
        } else {
            this.quota = new LocalQuota(config.quotas());
        }
        this.onExhausted = onExhausted;
    }

    /** Creates a fresh key that keeps only an operator's disable of {@code previous}. */
    static PooledKey keepingOperatorDisable(String provider, ApiKeyConfig config, QuotaGroup group,
                                            ExhaustionMode onExhausted, boolean countAlways) {
        PooledKey key = new PooledKey(provider, config, group, onExhausted, countAlways, null);
        key.status.set(KeyStatus.disabledByOperator(0));
        return key;
    }

    /** Returns the key's config; {@code config().value()} is the secret sent upstream. */
    public ApiKeyConfig config() {
        return config;
    }

    /** Returns the key id, shown everywhere instead of the key. */
    public String id() {
        return config.id();
    }

    /** Returns the secret. */
    public Secret secret() {
        return config.value();
    }

    /** Returns the provider name. */
    public String provider() {
        return provider;
    }

    /** Returns the quota group id, or {@code null}. */
    public String groupId() {
        return group == null ? null : group.id();
    }

    /** Returns what quota exhaustion does to this key. */
    ExhaustionMode onExhausted() {
        return onExhausted;
    }

    AtomicReference<KeyStatus> statusRef() {
        return status;
    }

    QuotaGroup group() {
        return group;
    }

    LocalQuota quota() {
        return quota;
    }

    /** Returns the current state, as of {@code now}: an expired cooldown reads as available. */
    public KeyState state(long now) {
        KeyStatus s = status.get();
        if (s.state() == KeyState.COOLING && now - s.untilNanos() >= 0) {
            return group != null && group.blockedUntil(now) != now ? KeyState.COOLING : KeyState.AVAILABLE;
        }
        if (s.state() == KeyState.AVAILABLE && group != null && group.blockedUntil(now) != now) {
            return group.status().state();
        }
        return s.state();
    }

    /** Returns whether an operator disabled this key ({@link KeyPool#disableByOperator}). */
    public boolean disabledByOperator() {
        return status.get().byOperator();
    }

    /** Returns the last signal seen on this key or, when it came through its quota group, on the group. */
    public String lastError() {
        String own = status.get().lastError();
        if (!"-".equals(own) || group == null) {
            return own;
        }
        return group.status().lastError();
    }

    /**
     * Returns when the key may be used again: {@code now} when it can be now, {@link Long#MAX_VALUE}
     * when only an operator can bring it back.
     */
    long availableFrom(long now, long nowMillis) {
        KeyStatus s = status.get();
        long from = now;
        switch (s.state()) {
            case DISABLED:
                return Long.MAX_VALUE;
            case COOLING:
            case EXHAUSTED:
                if (s.untilNanos() - now > 0) {
                    from = s.untilNanos();
                }
                break;
            default:
                break;
        }
        if (group != null) {
            long g = group.blockedUntil(now);
            if (g - from > 0) {
                from = g;
            }
        }
        if (quota != null) {
            long quotaMillis = quota.exhaustedUntilMillis(nowMillis) - nowMillis;
            if (quotaMillis > 0) {
                long q = now + quotaMillis * 1_000_000L;
                if (q - from > 0) {
                    from = q;
                }
            }
        }
        return from;
    }
}
