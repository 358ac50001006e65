package dev.detour.usage;

import dev.detour.config.BudgetConfig;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The usage of one client, team, route, key or budget scope: counters for the current UTC day and month, and
 * since the process started. Get one from {@link UsageLedger#account}; it lives as long as the ledger.
 *
 * <p>Concurrency: lock-free. Each window is an array of atomic counters; when the calendar moves on, the first
 * request of the new window swaps in a fresh window with one compare-and-set, and the others add to whichever
 * they read. A request counted at the very instant of a swap may land in the window that just ended: it is
 * counted, but in the earlier window. If the wall clock steps back across a boundary, requests keep counting
 * into the later window rather than resurrecting an earlier one.
 */
public final class UsageAccount {

    private static final Window NEVER = new Window(Long.MIN_VALUE);

    private final UsageKind kind;
    private final String group;
    private final String name;
    private final AtomicReference<Window> day = new AtomicReference<>(NEVER);
    private final AtomicReference<Window> month = new AtomicReference<>(NEVER);
    private final Window lifetime = new Window(0);

    UsageAccount(UsageKind kind, String group, String name) {
        this.kind = Objects.requireNonNull(kind, "kind");
        this.group = Objects.requireNonNull(group, "group");
        this.name = Objects.requireNonNull(name, "name");
    }

    /** Returns what this account counts. */
    public UsageKind kind() {
        return kind;
    }

    /** Returns the group: empty for clients, teams and routes; the provider of a key; the budget's name. */
    public String group() {
        return group;
    }

    /** Returns the name: the client, team, route, key id, or a budget's scope value. */
    public String name() {
        return name;
    }

    /** Returns the cost in micro-dollars counted in the window of {@code period} at {@code now}. */
    public long costMicros(BudgetConfig.Period period, UsageWindows now) {
        Window w = current(period, now);
        return w == null ? 0 : w.costMicros();
    }

    /** Returns the prompt plus completion tokens counted in the window of {@code period} at {@code now}. */
    public long tokens(BudgetConfig.Period period, UsageWindows now) {
        Window w = current(period, now);
        return w == null ? 0 : w.tokens();
    }

    /** Returns everything counted in the window of {@code period} at {@code now}. */
    public UsageCounts counts(BudgetConfig.Period period, UsageWindows now) {
        Window w = current(period, now);
        return w == null ? UsageCounts.ZERO : w.counts();
    }

    /** Returns everything counted since the process started (restored windows not included). */
    public UsageCounts sinceStart() {
        return lifetime.counts();
    }

    /** Adds one request's usage to the current day and month and to the lifetime counters. */
    void add(UsageWindows now, long prompt, long completion, long cached, long costMicros) {
        window(day, now.dayId()).add(prompt, completion, cached, costMicros);
        window(month, now.monthId()).add(prompt, completion, cached, costMicros);
        lifetime.add(prompt, completion, cached, costMicros);
    }

    /** Adds counts saved before a restart to the window {@code id} of {@code period}, if it is not over. */
    void restore(BudgetConfig.Period period, long id, UsageCounts counts) {
        Window w = window(period == BudgetConfig.Period.DAY ? day : month, id);
        if (w.id == id) {
            w.add(counts);
        }
    }

    /** Returns the window of {@code period} if it is (or is later than) the one {@code now} falls in, else null. */
    private Window current(BudgetConfig.Period period, UsageWindows now) {
        Window w = (period == BudgetConfig.Period.DAY ? day : month).get();
        return w.id >= now.id(period) ? w : null;
    }

    private static Window window(AtomicReference<Window> ref, long id) {
        Window w = ref.get();
        while (w.id < id) {
            Window fresh = new Window(id);
            if (ref.compareAndSet(w, fresh)) {
                return fresh;
            }
            w = ref.get();
        }
        return w;
    }

    @Override
    public String toString() {
        return kind.jsonName() + (group.isEmpty() ? "" : " " + group) + " " + name;
    }
}
