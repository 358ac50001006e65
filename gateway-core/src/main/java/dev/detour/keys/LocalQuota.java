package dev.detour.keys;

import dev.detour.config.KeyQuotas;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Request and token counts of one key in fixed windows (one minute, one UTC day), against the local
 * quotas Detour enforces for it.
 *
 * <p>Windows are aligned to wall-clock minutes and UTC days, the way providers reset daily quotas.
 * Each window is one immutable (index, requests, tokens) snapshot updated with compare-and-set, so
 * concurrent requests never admit more than the quota.
 */
final class LocalQuota {

    private static final long MINUTE = 60_000L;
    private static final long DAY = 86_400_000L;

    private final KeyQuotas limits;
    private final AtomicReference<Window> minute;
    private final AtomicReference<Window> day;

    LocalQuota(KeyQuotas limits) {
        this.limits = limits;
        this.minute = new AtomicReference<>(new Window(-1, 0, 0));
        this.day = new AtomicReference<>(new Window(-1, 0, 0));
    }

    /**
     * Creates a quota with new limits over the same counts as {@code previous}: after a config reload the
     * requests and tokens a key already used this minute and today still count, and requests of the old
     * config version that finish later count in both.
     */
    LocalQuota(KeyQuotas limits, LocalQuota previous) {
        this.limits = limits;
        this.minute = previous.minute;
        this.day = previous.day;
    }

    KeyQuotas limits() {
        return limits;
    }

    /**
     * Counts one request if every window still has room for it (and for tokens, if any are left);
     * returns whether it was admitted.
     */
    boolean tryAcquire(long nowMillis) {
        if (!admit(minute, MINUTE, nowMillis, limits.requestsPerMinute(), limits.tokensPerMinute())) {
            return false;
        }
        if (!admit(day, DAY, nowMillis, limits.requestsPerDay(), limits.tokensPerDay())) {
            release(minute, MINUTE, nowMillis);
            return false;
        }
        return true;
    }

    /** Gives back one request counted by {@link #tryAcquire} that was not sent. */
    void release(long nowMillis) {
        release(minute, MINUTE, nowMillis);
        release(day, DAY, nowMillis);
    }

    /** Adds {@code tokens} used by a request, once its usage is known. */
    void recordTokens(long tokens, long nowMillis) {
        if (tokens <= 0) {
            return;
        }
        addTokens(minute, MINUTE, nowMillis, tokens);
        addTokens(day, DAY, nowMillis, tokens);
    }

    /** Returns the millisecond instant when every exhausted window of this key has rolled over. */
    long exhaustedUntilMillis(long nowMillis) {
        long until = nowMillis;
        if (full(minute.get(), MINUTE, nowMillis, limits.requestsPerMinute(), limits.tokensPerMinute())) {
            until = Math.max(until, (nowMillis / MINUTE + 1) * MINUTE);
        }
        if (full(day.get(), DAY, nowMillis, limits.requestsPerDay(), limits.tokensPerDay())) {
            until = Math.max(until, (nowMillis / DAY + 1) * DAY);
        }
        return until;
    }

    /** Returns the share of the tightest quota still left, from 0 to 1; 1 when no quota is set. */
    double remainingShare(long nowMillis) {
        double share = 1;
        share = Math.min(share, left(minute.get(), MINUTE, nowMillis, limits.requestsPerMinute(), true));
        share = Math.min(share, left(minute.get(), MINUTE, nowMillis, limits.tokensPerMinute(), false));
        share = Math.min(share, left(day.get(), DAY, nowMillis, limits.requestsPerDay(), true));
        share = Math.min(share, left(day.get(), DAY, nowMillis, limits.tokensPerDay(), false));
        return share;
    }

    /** Returns the requests counted in the current minute. */
    long requestsThisMinute(long nowMillis) {
        Window w = minute.get();
        return w.index == nowMillis / MINUTE ? w.requests : 0;
    }

    /** Returns a snapshot for the admin view: used counts in the current windows. */
    Usage usage(long nowMillis) {
        Window m = current(minute.get(), MINUTE, nowMillis);
        Window d = current(day.get(), DAY, nowMillis);
        return new Usage(m.requests, m.tokens, d.requests, d.tokens);
    }

    /** Counts in the current windows. */
    record Usage(long requestsThisMinute, long tokensThisMinute, long requestsToday, long tokensToday) {
    }

    private static boolean admit(AtomicReference<Window> ref, long size, long nowMillis, long maxRequests,
                                 long maxTokens) {
        long index = nowMillis / size;
        while (true) {
            Window w = ref.get();
            Window cur = w.index == index ? w : new Window(index, 0, 0);
            if (maxRequests > 0 && cur.requests >= maxRequests || maxTokens > 0 && cur.tokens >= maxTokens) {
                return false;
            }
            if (ref.compareAndSet(w, new Window(index, cur.requests + 1, cur.tokens))) {
                return true;
            }
        }
    }

    private static void release(AtomicReference<Window> ref, long size, long nowMillis) {
        long index = nowMillis / size;
        while (true) {
            Window w = ref.get();
            if (w.index != index || w.requests == 0) {
                return;
            }
            if (ref.compareAndSet(w, new Window(index, w.requests - 1, w.tokens))) {
                return;
            }
        }
    }

    private static void addTokens(AtomicReference<Window> ref, long size, long nowMillis, long tokens) {
        long index = nowMillis / size;
        while (true) {
            Window w = ref.get();
            Window cur = w.index == index ? w : new Window(index, 0, 0);
            if (ref.compareAndSet(w, new Window(index, cur.requests, cur.tokens + tokens))) {
                return;
            }
        }
    }

    private static boolean full(Window w, long size, long nowMillis, long maxRequests, long maxTokens) {
        if (w.index != nowMillis / size) {
            return false;
        }
        return maxRequests > 0 && w.requests >= maxRequests || maxTokens > 0 && w.tokens >= maxTokens;
    }

    private static double left(Window w, long size, long nowMillis, long max, boolean requests) {
        if (max <= 0) {
            return 1;
        }
        long used = w.index == nowMillis / size ? (requests ? w.requests : w.tokens) : 0;
        return Math.max(0, (double) (max - used) / max);
    }

    private static Window current(Window w, long size, long nowMillis) {
        return w.index == nowMillis / size ? w : new Window(nowMillis / size, 0, 0);
    }

    private record Window(long index, long requests, long tokens) {
    }
}
