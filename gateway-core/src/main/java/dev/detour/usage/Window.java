package dev.detour.usage;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The counters of one account in one calendar window (a day, a month, or the process's lifetime).
 *
 * <p>Thread-safe and lock-free: each field is one atomic add. A window is replaced, never reset, when the
 * calendar moves on, so a reader never sees a half-cleared window.
 */
final class Window {

    private static final int REQUESTS = 0;
    private static final int PROMPT = 1;
    private static final int COMPLETION = 2;
    private static final int CACHED = 3;
    private static final int COST = 4;

    /** The window's identity: the epoch day, the month index (year × 12 + month − 1), or 0 for lifetime. */
    final long id;
    private final AtomicLongArray values = new AtomicLongArray(5);

    Window(long id) {
        this.id = id;
    }

    /** Adds one request's usage; zeros are skipped, so an unpriced request costs no atomic add for its cost. */
    void add(long prompt, long completion, long cached, long costMicros) {
        values.getAndIncrement(REQUESTS);
        addIfPositive(PROMPT, prompt);
        addIfPositive(COMPLETION, completion);
        addIfPositive(CACHED, cached);
        addIfPositive(COST, costMicros);
    }

    /** Adds counts restored from a file. */
    void add(UsageCounts counts) {
        values.getAndAdd(REQUESTS, counts.requests());
        values.getAndAdd(PROMPT, counts.promptTokens());
        values.getAndAdd(COMPLETION, counts.completionTokens());
        values.getAndAdd(CACHED, counts.cachedTokens());
        values.getAndAdd(COST, counts.costMicros());
    }

    long costMicros() {
        return values.get(COST);
    }

    long tokens() {
        return values.get(PROMPT) + values.get(COMPLETION);
    }

    /** Returns the counts; each field is read atomically, the whole not (a request may be half added). */
    UsageCounts counts() {
        return new UsageCounts(values.get(REQUESTS), values.get(PROMPT), values.get(COMPLETION), values.get(CACHED),
                               values.get(COST));
    }

    private void addIfPositive(int field, long amount) {
        if (amount > 0) {
            values.getAndAdd(field, amount);
        }
    }
}
