package dev.detour.usage;

import dev.detour.config.BudgetConfig;
import dev.detour.time.NanoClock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Every request's usage (requests, prompt, completion and cached tokens, cost in micro-dollars) per client,
 * team, route, upstream key and budget scope, for the current UTC day and month and since the process started.
 *
 * <pre>{@code
 * UsageLedger ledger = new UsageLedger(NanoClock.SYSTEM);
 * UsageWindows now = ledger.now();
 * long spent = ledger.account(UsageKind.TEAM, "", "research").costMicros(BudgetConfig.Period.MONTH, now);
 * UsageSnapshot all = ledger.snapshot();          // for the admin API and metrics
 * }</pre>
 *
 * <p>Concurrency: thread-safe and lock-free on the request path. Accounts sit in concurrent maps (a lookup
 * allocates nothing; an account is created once, on its first request); their counters are atomics (see
 * {@link UsageAccount}). Readers may see a request half added; nothing is ever lost.
 *
 * <p>Lifecycle: one per server, outliving config versions (a reload keeps every count). Accounts are created on
 * demand from names in config, so their number is bounded by the config; {@link UsagePersistence} saves and
 * restores the day and month windows. Windows follow the injected clock's wall time, in UTC.
 */
public final class UsageLedger {

    private static final Comparator<UsageSnapshot.AccountUsage> ORDER =
            Comparator.comparing(UsageSnapshot.AccountUsage::kind)
                    .thenComparing(UsageSnapshot.AccountUsage::group)
                    .thenComparing(UsageSnapshot.AccountUsage::name);

    private final NanoClock clock;
    private final Map<UsageKind, ConcurrentHashMap<String, ConcurrentHashMap<String, UsageAccount>>> accounts =
            new EnumMap<>(UsageKind.class);
    /** Counts changes, so that the file is only written when something was counted since the last write. */
    private final LongAdder changes = new LongAdder();
    private volatile UsageWindows windows;

    /** Creates an empty ledger whose windows follow {@code clock}'s wall time. */
    public UsageLedger(NanoClock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
        for (UsageKind kind : UsageKind.values()) {
            accounts.put(kind, new ConcurrentHashMap<>());
        }
        this.windows = UsageWindows.at(clock.instant());
    }

    /** Returns the windows usage counts in now; recomputed only when the UTC day changed. */
    public UsageWindows now() {
        Instant instant = clock.instant();
        UsageWindows w = windows;
        if (w.contains(instant.getEpochSecond())) {
            return w;
        }
        w = UsageWindows.at(instant);
        windows = w;
        return w;
    }

    /**
     * Returns the account of {@code kind} named {@code name} in {@code group} ({@code ""} for clients, teams and
     * routes), created empty on first use.
     */
    public UsageAccount account(UsageKind kind, String group, String name) {
        ConcurrentHashMap<String, UsageAccount> byName = accounts.get(kind).get(group);
        if (byName == null) {
            byName = accounts.get(kind).computeIfAbsent(group, g -> new ConcurrentHashMap<>());
        }
        UsageAccount account = byName.get(name);
        if (account == null) {
            account = byName.computeIfAbsent(name, n -> new UsageAccount(kind, group, n));
        }
        return account;
    }

    /** Returns the accounts of {@code kind} in {@code group} that exist so far, in no particular order. */
    public List<UsageAccount> accounts(UsageKind kind, String group) {
        Map<String, UsageAccount> byName = accounts.get(kind).get(group);
        return byName == null ? List.of() : List.copyOf(byName.values());
    }

    /** Returns a copy of every account with usage in the current day, month or since the start. */
    public UsageSnapshot snapshot() {
        Instant at = clock.instant();
        UsageWindows now = now();
        List<UsageSnapshot.AccountUsage> list = new ArrayList<>();
        for (Map<String, ConcurrentHashMap<String, UsageAccount>> byGroup : accounts.values()) {
            for (Map<String, UsageAccount> byName : byGroup.values()) {
                for (UsageAccount a : byName.values()) {
                    UsageCounts day = a.counts(BudgetConfig.Period.DAY, now);
                    UsageCounts month = a.counts(BudgetConfig.Period.MONTH, now);
                    UsageCounts since = a.sinceStart();
                    if (day.requests() > 0 || month.requests() > 0 || since.requests() > 0) {
                        list.add(new UsageSnapshot.AccountUsage(a.kind(), a.group(), a.name(), day, month, since));
                    }
                }
            }
        }
        list.sort(ORDER);
        return new UsageSnapshot(at, now.day(), now.month(), list);
    }

    /** Records that accounts changed; called after the counters of a request were added. */
    void changed() {
        changes.increment();
    }

    /** Returns a number that grows whenever something was counted. */
    long changes() {
        return changes.sum();
    }

    /** Adds the day and month counts of {@code saved} (taken before a restart) to the windows they belong to. */
    void restore(UsageSnapshot saved) {
        long dayId = saved.day().toEpochDay();
        long monthId = UsageWindows.monthId(saved.month());
        for (UsageSnapshot.AccountUsage a : saved.accounts()) {
            UsageAccount account = account(a.kind(), a.group(), a.name());
            account.restore(BudgetConfig.Period.DAY, dayId, a.day());
            account.restore(BudgetConfig.Period.MONTH, monthId, a.month());
        }
    }
}
