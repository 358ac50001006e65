package dev.detour.keys;

import dev.detour.config.ApiKeyConfig;
import dev.detour.config.ExhaustionMode;
import dev.detour.config.PoolConfig;
import dev.detour.config.ProviderConfig;
import dev.detour.config.ProviderType;
import dev.detour.config.Secret;
import dev.detour.provider.UpstreamVerdict;
import dev.detour.time.NanoClock;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API keys of one provider: which key the next request uses, and what the provider's signals do to them.
 *
 * <p>Transitions, from {@link #report}:
 * <ul>
 *   <li>rate limited → cooling until the provider's hint, or a cooldown that doubles with each 429 in a row;</li>
 *   <li>quota exhausted → exhausted until the provider's reset or {@code exhausted-for}, then one probe
 *       request decides; or disabled, when the key (or pool) says {@code on-exhausted: disable};</li>
 *   <li>key rejected (401/403) → disabled until an operator enables it;</li>
 *   <li>a success announcing {@code remaining: 0} → cooling until the announced reset.</li>
 * </ul>
 * Rate-limit and quota signals apply to the key's quota group when it has one. An operator can take a key
 * out ({@link #disableByOperator}) and bring any key back ({@link #enable}); no signal, probe or expiry
 * undoes an operator's disable.
 *
 * <p>Config reloads: {@link #next} builds the pool of the next config version and continues the state of
 * every key that did not change (same id and secret, same provider type and base URL), sharing its state
 * object, so that requests still running on the old version report to the new pool too. A key whose secret
 * changed starts afresh, except that an operator's disable sticks to a secret, whatever id it has.
 *
 * <p>Concurrency: lock-free. Each key's state is an immutable snapshot swapped with compare-and-set,
 * so when many requests see the same 429 the key is marked (and logged) once. Requests choose a key
 * at the moment they are sent; once a key is marked, no new request picks it. The requests that can
 * still meet the failing key are the ones already sent to it before its first 429 came back — at most
 * the number in flight on that key at that moment — and each of them moves on to another key.
 */
public final class KeyPool {

    private static final Logger LOG = LoggerFactory.getLogger(KeyPool.class);

    /** The key used for providers that need none (the mock, a local vLLM). */
    public static final ApiKeyConfig NO_KEY = new ApiKeyConfig("-", Secret.empty());

    /** How long a probe of an exhausted key may stay unanswered before another request may probe. */
    private static final long PROBE_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final long MIN_COOLDOWN_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    private final String provider;
    private final ProviderType type;
    private final URI baseUrl;
    private final PoolConfig config;
    private final PooledKey[] keys;
    private final int totalWeight;
    private final NanoClock clock;
    private final AtomicInteger cursor = new AtomicInteger();

    /**
     * Creates the pool of {@code provider}; with a {@code previous} pool (of the same provider name), unchanged
     * keys and quota groups continue from it.
     */
    private KeyPool(ProviderConfig provider, NanoClock clock, KeyPool previous) {
        this.provider = provider.name();
        this.type = provider.type();
        this.baseUrl = provider.baseUrl();
        this.config = provider.pool();
        this.clock = clock;
        // Rate-limit and quota state is the upstream's verdict on a key: it only carries over to the same upstream.
        boolean sameUpstream = previous != null && previous.type == type && previous.baseUrl.equals(baseUrl);
        List<ApiKeyConfig> effective = provider.keys().isEmpty() ? List.of(NO_KEY) : provider.keys();
        Map<String, QuotaGroup> groups = new HashMap<>();
        if (sameUpstream) {
            for (PooledKey k : previous.keys) {
                if (k.group() != null) {
                    groups.putIfAbsent(k.group().id(), k.group());
                }
            }
        }
        this.keys = new PooledKey[effective.size()];
        boolean countAlways = config.strategy() == PoolConfig.Strategy.LEAST_USED;
        int weights = 0;
        for (int i = 0; i < keys.length; i++) {
            ApiKeyConfig k = effective.get(i);
            QuotaGroup group = k.quotaGroup().map(id -> groups.computeIfAbsent(id, QuotaGroup::new)).orElse(null);
            ExhaustionMode onExhausted = k.onExhausted().orElse(config.onExhausted());
            PooledKey before = previous == null ? null : previous.key(k.id());
            if (sameUpstream && before != null && before.secret().equals(k.value())) {
                keys[i] = new PooledKey(this.provider, k, group, onExhausted, countAlways, before);
            } else if (previous != null && previous.disabledByOperator(k.value())) {
                keys[i] = PooledKey.keepingOperatorDisable(this.provider, k, group, onExhausted, countAlways);
            } else {
                keys[i] = new PooledKey(this.provider, k, group, onExhausted, countAlways);
                if (before != null && before.statusRef().get().state() != KeyState.AVAILABLE) {
                    LOG.info("key '{}' of provider '{}' starts afresh (was {}): its {} changed", k.id(), this.provider,
                             before.statusRef().get().state().name().toLowerCase(java.util.Locale.ROOT),
                             sameUpstream ? "secret" : "provider type or base URL");
                }
            }
            weights += k.weight();
        }
        this.totalWeight = weights;
    }

    /** Returns the pool of {@code provider}, on the system clock. */
    public static KeyPool of(ProviderConfig provider) {
        return of(provider, NanoClock.SYSTEM);
    }

    /** Returns the pool of {@code provider}, reading time from {@code clock}. */
    public static KeyPool of(ProviderConfig provider, NanoClock clock) {
        return new KeyPool(provider, clock, null);
    }

    /**
     * Returns the pool of {@code provider} for the next config version, on this pool's clock.
     *
     * <p>What carries over: a key with the same id and secret, while the provider's type and base URL are
     * unchanged, keeps its state (cooling, exhausted, disabled, strikes) and its local quota counts, whatever
     * else changed (pool strategy, cooldowns, weights, quotas, quota group); a quota group with the same id
     * keeps its state on the same terms. What resets: a key with a new id or a new secret, and every key when
     * the type or base URL changed. An operator's disable carries over whenever the secret is still configured
     * in this provider, under any id.
     *
     * @throws IllegalArgumentException if {@code provider} has another name than this pool's
     */
    public KeyPool next(ProviderConfig provider) {
        if (!provider.name().equals(this.provider)) {
            throw new IllegalArgumentException("provider: '" + provider.name() + "' (expected: '" + this.provider
                                               + "')");
        }
        return new KeyPool(provider, clock, this);
    }


    /** Returns the provider name. */
    public String provider() {
        return provider;
    }

    /** Returns the pool settings. */
    public PoolConfig config() {
        return config;
    }

    /** Returns how many keys there are. */
    public int size() {
        return keys.length;
    }

    /** Returns the keys in config order. */
    public List<PooledKey> keys() {
        return List.of(keys);
    }

    /** Returns whether an operator disabled a key of this pool whose secret is {@code secret}. */
    private boolean disabledByOperator(Secret secret) {
        for (PooledKey k : keys) {
            if (k.disabledByOperator() && k.secret().equals(secret)) {
                return true;
            }
        }
        return false;
    }

    /** Returns the key with {@code id}, or {@code null}. */
    public PooledKey key(String id) {
        for (PooledKey k : keys) {
            if (k.id().equals(id)) {
                return k;
            }
        }
        return null;
    }

    /** Returns the next key, ignoring state: for callers that do not route (tests, probes). */
    public ApiKeyConfig next() {
        return keys[Math.floorMod(cursor.getAndIncrement(), keys.length)].config();
    }

    /**
     * Chooses a key for one request and counts it against the key's local quota.
     *
     * @param preferred a key id to use if it can be used (session affinity), or {@code null}
     * @param tried     ids of keys this request already tried, which it must not meet again
     * @return the key, or {@code null} when none can take the request now
     */
    public PooledKey select(String preferred, Set<String> tried) {
        long now = clock.nanoTime();
        long nowMillis = clock.instant().toEpochMilli();
        if (preferred != null) {
            PooledKey p = key(preferred);
            if (p != null && !tried.contains(p.id()) && claim(p, now, nowMillis)) {
                return p;
            }
        }
        switch (config.strategy()) {
            case ORDERED:
                return firstClaimable(0, now, nowMillis, tried);
            case WEIGHTED:
                return weighted(now, nowMillis, tried);
            case LEAST_USED:
                return leastUsed(now, nowMillis, tried);
            default:
                return firstClaimable(Math.floorMod(cursor.getAndIncrement(), keys.length), now, nowMillis, tried);
        }
    }

    /** Returns when the soonest key of this pool can be used, {@link Long#MAX_VALUE} if none can without an operator. */
    public long soonestAvailable() {
        long now = clock.nanoTime();
        long nowMillis = clock.instant().toEpochMilli();
        long soonest = Long.MAX_VALUE;
        for (PooledKey k : keys) {
            long from = k.availableFrom(now, nowMillis);
            if (soonest == Long.MAX_VALUE || from != Long.MAX_VALUE && from - soonest < 0) {
                soonest = from;
            }
        }
        return soonest;
    }

    /** Returns whether every key is disabled, so that only an operator can help. */
    public boolean allDisabled() {
        for (PooledKey k : keys) {
            if (k.statusRef().get().state() != KeyState.DISABLED) {
                return false;
            }
        }
        return true;
    }

    /** Gives back a key {@link #select} claimed but the request did not use. */
    public void unclaim(PooledKey key) {
        if (key.quota() != null) {
            key.quota().release(clock.instant().toEpochMilli());
        }
        endProbe(key, false);
    }

    /** Adds the tokens a request used on {@code key}, once its usage is known, to the key's local quota. */
    public void recordTokens(PooledKey key, long tokens) {
        if (key.quota() != null) {
            key.quota().recordTokens(tokens, clock.instant().toEpochMilli());
        }
    }

    /** Applies what the provider said about a request sent with {@code key}. */
    public void report(PooledKey key, UpstreamVerdict verdict) {
        long now = clock.nanoTime();
        switch (verdict.kind()) {
            case SUCCESS:
                recovered(key, now);
                if (verdict.hasHint()) {
                    cool(key, now, verdict.waitNanos(), "remaining_0", false);
                }
                break;
            case RATE_LIMITED:
                // A probe answered with a rate limit shows the quota is back: the key just needs to cool.
                probeAnswered(key);
                cool(key, now, verdict.waitNanos(), verdict.detail(), true);
                break;
            case QUOTA_EXHAUSTED:
                exhaust(key, now, verdict);
                break;
            case KEY_INVALID:
                disable(key, verdict.detail(), "the provider rejected it");
                break;
            case OVERLOADED:
            case SERVER_ERROR:
            case TIMEOUT:
            case CONNECT_FAILED:
                endProbe(key, false);
                break;
            default:
                // The provider answered with this key (a client error, an unknown model): the key works.
                recovered(key, now);
                break;
        }
    }

    /** Takes {@code key} out until {@link #enable} is called, e.g. because it leaked. */
    public void disable(PooledKey key, String detail, String why) {
        AtomicReference<KeyStatus> ref = key.statusRef();
        while (true) {
            KeyStatus s = ref.get();
            if (s.state() == KeyState.DISABLED) {
                return;
            }
            if (ref.compareAndSet(s, new KeyStatus(KeyState.DISABLED, 0, s.strikes(), false, detail))) {
                LOG.warn("key '{}' of provider '{}' disabled: {} ({})", key.id(), provider, why, detail);
                return;
            }
        }
    }

    /**
     * Takes {@code key} out at once on an operator's word (e.g. because it leaked), until {@link #enable}:
     * no probe, cooldown expiry or success brings it back, and it stays out across config reloads while its
     * secret is configured. Requests already sent with it finish. Returns whether it was not already disabled
     * by an operator.
     */
    public boolean disableByOperator(PooledKey key) {
        AtomicReference<KeyStatus> ref = key.statusRef();
        while (true) {
            KeyStatus s = ref.get();
            if (s.byOperator()) {
                return false;
            }
            if (ref.compareAndSet(s, KeyStatus.disabledByOperator(s.strikes()))) {
                LOG.warn("key '{}' of provider '{}' disabled by an operator (was {})", key.id(), provider,
                         s.state().name().toLowerCase(java.util.Locale.ROOT));
                return true;
            }
        }
    }

    /**
     * Brings {@code key} back, whatever its state and whoever disabled it: it is available for the next request
     * (its quota group, if cooling, may still hold it back). Returns whether it was not available before.
     */
    public boolean enable(PooledKey key) {
        KeyStatus old = key.statusRef().getAndSet(KeyStatus.AVAILABLE);
        if (old.state() != KeyState.AVAILABLE) {
            LOG.info("key '{}' of provider '{}' enabled (was {})", key.id(), provider,
                     old.state().name().toLowerCase(java.util.Locale.ROOT));
            return true;
        }
        return false;
    }

    /** Returns a snapshot of every key for the admin view. */
    public List<KeySnapshot> snapshot() {
        long now = clock.nanoTime();
        long nowMillis = clock.instant().toEpochMilli();
        List<KeySnapshot> out = new ArrayList<>(keys.length);
        for (PooledKey k : keys) {
            long from = k.availableFrom(now, nowMillis);
            long remaining = from == Long.MAX_VALUE ? -1 : Math.max(0, from - now);
            LocalQuota.Usage usage = k.quota() == null ? null : k.quota().usage(nowMillis);
            KeyStatus status = k.statusRef().get();
            String disabledBy = status.state() != KeyState.DISABLED ? null
                                : status.byOperator() ? "operator" : "provider";
            out.add(new KeySnapshot(k.id(), k.secret().masked(), k.state(now), remaining, k.groupId(), k.lastError(),
                                    k.config().quotas(), usage == null ? 0 : usage.requestsThisMinute(),
                                    usage == null ? 0 : usage.tokensThisMinute(),
                                    usage == null ? 0 : usage.requestsToday(), usage == null ? 0 : usage.tokensToday(),
                                    disabledBy));
        }
        return out;
    }

    private PooledKey firstClaimable(int start, long now, long nowMillis, Set<String> tried) {
        for (int i = 0; i < keys.length; i++) {
            PooledKey k = keys[(start + i) % keys.length];
            if (!tried.contains(k.id()) && claim(k, now, nowMillis)) {
                return k;
            }
        }
        return null;
    }

    private PooledKey weighted(long now, long nowMillis, Set<String> tried) {
        int pick = ThreadLocalRandom.current().nextInt(totalWeight);
        int start = 0;
        for (int i = 0; i < keys.length; i++) {
            pick -= keys[i].config().weight();
            if (pick < 0) {
                start = i;
                break;
            }
        }
        return firstClaimable(start, now, nowMillis, tried);
    }

    private PooledKey leastUsed(long now, long nowMillis, Set<String> tried) {
        // Try keys by most remaining quota share, then fewest requests this minute; claim the first that takes it.
        PooledKey[] order = keys.clone();
        double[] share = new double[order.length];
        long[] used = new long[order.length];
        for (int i = 0; i < order.length; i++) {
            LocalQuota q = order[i].quota();
            share[i] = q == null ? 1 : q.remainingShare(nowMillis);
            used[i] = q == null ? 0 : q.requestsThisMinute(nowMillis);
        }
        Integer[] idx = new Integer[order.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        java.util.Arrays.sort(idx, (a, b) -> share[a] != share[b] ? Double.compare(share[b], share[a])
                                                                   : Long.compare(used[a], used[b]));
        for (Integer i : idx) {
            PooledKey k = order[i];
            if (!tried.contains(k.id()) && claim(k, now, nowMillis)) {
                return k;
            }
        }
        return null;
    }

    /**
     * Returns whether {@code k} can take one request now, and if so counts it: against the local
     * quota, and as the single probe of an exhausted key whose time is up.
     */
    private boolean claim(PooledKey k, long now, long nowMillis) {
        QuotaGroup group = k.group();
        boolean groupProbe = false;
        if (group != null) {
            KeyStatus g = group.status();
            if (g.state() == KeyState.EXHAUSTED && now - g.untilNanos() >= 0) {
                // The group's time is up: this request probes for all its keys; the others keep away.
                KeyStatus probing = new KeyStatus(KeyState.EXHAUSTED, now + PROBE_TIMEOUT_NANOS, g.strikes(), true,
                                                  g.lastError());
                if (!group.statusRef().compareAndSet(g, probing)) {
                    return false;
                }
                groupProbe = true;
            } else if (group.blockedUntil(now) != now) {
                return false;
            }
        }
        if (!claimKey(k, now, nowMillis)) {
            if (groupProbe) {
                releaseGroupProbe(group);
            }
            return false;
        }
        return true;
    }

    private boolean claimKey(PooledKey k, long now, long nowMillis) {
        AtomicReference<KeyStatus> ref = k.statusRef();
        KeyStatus s = ref.get();
        boolean probe = false;
        if (!s.usableAt(now)) {
            if (s.state() != KeyState.EXHAUSTED || now - s.untilNanos() < 0) {
                return false;
            }
            // Time is up: one request probes; the others keep away until it reports or times out.
            KeyStatus probing = new KeyStatus(KeyState.EXHAUSTED, now + PROBE_TIMEOUT_NANOS, s.strikes(), true,
                                              s.lastError());
            if (!ref.compareAndSet(s, probing)) {
                return false;
            }
            probe = true;
        }
        if (k.quota() != null && !k.quota().tryAcquire(nowMillis)) {
            if (probe) {
                endProbe(k, false);
            }
            return false;
        }
        return true;
    }

    private void recovered(PooledKey key, long now) {
        AtomicReference<KeyStatus> ref = key.statusRef();
        while (true) {
            KeyStatus s = ref.get();
            boolean cleared = s.state() == KeyState.AVAILABLE && s.strikes() == 0;
            boolean stillCooling = s.state() == KeyState.COOLING && now - s.untilNanos() < 0;
            if (cleared || s.state() == KeyState.DISABLED || stillCooling
                || s.state() == KeyState.EXHAUSTED && !s.probing()) {
                break;
            }
            if (ref.compareAndSet(s, KeyStatus.AVAILABLE)) {
                if (s.state() == KeyState.EXHAUSTED) {
                    LOG.info("key '{}' of provider '{}' is back: its probe request succeeded", key.id(), provider);
                }
                break;
            }
        }
        QuotaGroup group = key.group();
        if (group != null) {
            KeyStatus g = group.status();
            if (g.state() != KeyState.AVAILABLE && (g.probing() || now - g.untilNanos() >= 0)
                && group.statusRef().compareAndSet(g, KeyStatus.AVAILABLE) && g.state() == KeyState.EXHAUSTED) {
                LOG.info("quota group '{}' of provider '{}' is back: its probe request succeeded", group.id(),
                         provider);
            }
        }
    }

    /** Ends a probe of {@code key} (or its group) that the provider answered: the quota exists again. */
    private void probeAnswered(PooledKey key) {
        AtomicReference<KeyStatus> ref = key.statusRef();
        KeyStatus s = ref.get();
        if (s.state() == KeyState.EXHAUSTED && s.probing()) {
            ref.compareAndSet(s, KeyStatus.AVAILABLE);
        }
    }

    private void releaseGroupProbe(QuotaGroup group) {
        KeyStatus g = group.status();
        if (g.state() == KeyState.EXHAUSTED && g.probing()) {
            group.statusRef().compareAndSet(g, new KeyStatus(KeyState.EXHAUSTED, clock.nanoTime(), g.strikes(), false,
                                                             g.lastError()));
        }
    }

    private void cool(PooledKey key, long now, long hintNanos, String detail, boolean strike) {
        QuotaGroup group = key.group();
        AtomicReference<KeyStatus> ref = group != null ? group.statusRef() : key.statusRef();
        String who = group != null ? "quota group '" + group.id() + "' (via key '" + key.id() + "')"
                                   : "key '" + key.id() + "'";
        while (true) {
            KeyStatus s = ref.get();
            if (s.state() == KeyState.DISABLED
                || s.state() == KeyState.EXHAUSTED && !s.probing() && now - s.untilNanos() < 0) {
                return; // a stronger verdict already holds
            }
            boolean cooling = s.state() == KeyState.COOLING && now - s.untilNanos() < 0;
            int strikes = strike ? (cooling ? s.strikes() : s.strikes() + 1) : s.strikes();
            long wait = hintNanos >= 0 ? hintNanos : backoff(Math.max(1, strikes));
            long until = now + clamp(wait);
            if (cooling && s.untilNanos() - until >= 0) {
                return; // already cooling at least that long: mark once
            }
            if (ref.compareAndSet(s, new KeyStatus(KeyState.COOLING, until, strikes, false, detail))) {
                if (!cooling) {
                    LOG.info("{} of provider '{}' cooling for {} ms ({})", who, provider,
                             TimeUnit.NANOSECONDS.toMillis(until - now), detail);
                }
                return;
            }
        }
    }

    private void exhaust(PooledKey key, long now, UpstreamVerdict verdict) {
        if (key.onExhausted() == ExhaustionMode.DISABLE) {
            disable(key, verdict.detail(), "its quota is exhausted and the pool disables exhausted keys");
            return;
        }
        QuotaGroup group = key.group();
        AtomicReference<KeyStatus> ref = group != null ? group.statusRef() : key.statusRef();
        long wait = verdict.hasHint() ? verdict.waitNanos() : config.exhaustedFor().toNanos();
        long until = now + Math.max(MIN_COOLDOWN_NANOS, wait);
        while (true) {
            KeyStatus s = ref.get();
            if (s.state() == KeyState.DISABLED) {
                return;
            }
            boolean already = s.state() == KeyState.EXHAUSTED && !s.probing() && s.untilNanos() - until >= 0;
            if (already) {
                return;
            }
            if (ref.compareAndSet(s, new KeyStatus(KeyState.EXHAUSTED, until, s.strikes(), false, verdict.detail()))) {
                if (s.state() != KeyState.EXHAUSTED || s.probing()) {
                    LOG.warn("{} of provider '{}' exhausted for {} s ({}); one probe request follows",
                             group != null ? "quota group '" + group.id() + "'" : "key '" + key.id() + "'", provider,
                             TimeUnit.NANOSECONDS.toSeconds(until - now), verdict.detail());
                }
                return;
            }
        }
        // A group's keys are out through the group; the key's own state stays as it was.
    }

    private void endProbe(PooledKey key, boolean success) {
        if (key.group() != null) {
            releaseGroupProbe(key.group());
        }
        AtomicReference<KeyStatus> ref = key.statusRef();
        KeyStatus s = ref.get();
        if (s.state() == KeyState.EXHAUSTED && s.probing()) {
            // The probe said nothing about the quota: let the next request probe again at once.
            ref.compareAndSet(s, new KeyStatus(KeyState.EXHAUSTED, clock.nanoTime(), s.strikes(), false,
                                               s.lastError()));
        }
    }

    private long backoff(int strikes) {
        long base = config.cooldown().toNanos();
        int shift = Math.min(strikes - 1, 20);
        long wait = base << shift;
        return wait < 0 ? Long.MAX_VALUE : wait;
    }

    private long clamp(long waitNanos) {
        long max = config.maxCooldown().toNanos();
        return Math.max(MIN_COOLDOWN_NANOS, Math.min(waitNanos, max));
    }

    /**
     * What the admin view shows of one key: never the key itself.
     *
     * @param id               the key id
     * @param masked           the masked key, e.g. {@code ...9f2c}
     * @param state            the state
     * @param unavailableNanos time until usable, {@code 0} if usable now, {@code -1} if only an operator can help
     * @param quotaGroup       the quota group, or {@code null}
     * @param lastError        the last signal seen
     * @param quotas           the local quotas
     * @param requestsThisMinute requests counted in the current minute (only with local quotas)
     * @param tokensThisMinute tokens counted in the current minute (only with local quotas)
     * @param requestsToday    requests counted today (only with local quotas)
     * @param tokensToday      tokens counted today (only with local quotas)
     * @param disabledBy       {@code operator} or {@code provider} for a disabled key, else {@code null}
     */
    public record KeySnapshot(String id, String masked, KeyState state, long unavailableNanos, String quotaGroup,
                              String lastError, dev.detour.config.KeyQuotas quotas, long requestsThisMinute,
                              long tokensThisMinute, long requestsToday, long tokensToday, String disabledBy) {
    }
}
