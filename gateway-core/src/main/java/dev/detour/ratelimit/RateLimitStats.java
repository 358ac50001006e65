package dev.detour.ratelimit;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts of what the rate limiter refused, and of what its shadow limits would have refused, per limit, for
 * metrics. Limit names are few and fixed by config, so they make fine metric tags.
 *
 * <p>Thread-safe; counters only grow. One per {@link RateLimitFilter}.
 */
public final class RateLimitStats {

    private final Map<String, Counters> byLimit;

    RateLimitStats(Set<String> limitNames) {
        Map<String, Counters> m = new LinkedHashMap<>();
        for (String name : limitNames) {
            m.put(name, new Counters());
        }
        this.byLimit = Collections.unmodifiableMap(m);
    }

    /** Returns the names of the limits counted, in config order. */
    public Set<String> limits() {
        return byLimit.keySet();
    }

    /** Returns how many requests {@code limit} refused, or 0 for an unknown limit. */
    public long refused(String limit) {
        Counters c = byLimit.get(limit);
        return c == null ? 0 : c.refused.sum();
    }

    /** Returns how many requests shadow limit {@code limit} would have refused, or 0 for an unknown limit. */
    public long shadowRefused(String limit) {
        Counters c = byLimit.get(limit);
        return c == null ? 0 : c.shadowRefused.sum();
    }

    /** Returns how many requests were refused, all limits together. */
    public long refused() {
        long sum = 0;
        for (Counters c : byLimit.values()) {
            sum += c.refused.sum();
        }
        return sum;
    }

    /** Returns how many would-be refusals shadow limits counted, all together. */
    public long shadowRefused() {
        long sum = 0;
        for (Counters c : byLimit.values()) {
            sum += c.shadowRefused.sum();
        }
        return sum;
    }

    /** Returns the counters of {@code limit}, or {@code null}; resolved once per limit, not per request. */
    Counters counters(String limit) {
        return byLimit.get(limit);
    }

    /** One limit's counters. */
    static final class Counters {
        final LongAdder refused = new LongAdder();
        final LongAdder shadowRefused = new LongAdder();
    }
}
