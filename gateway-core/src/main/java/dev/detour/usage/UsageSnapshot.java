package dev.detour.usage;

import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A point-in-time copy of every account of a {@link UsageLedger}: what the admin API and metrics publish, and
 * what the usage file stores.
 *
 * @param takenAt  when it was taken
 * @param day      the UTC day its {@code day} counts belong to
 * @param month    the UTC month its {@code month} counts belong to
 * @param accounts the accounts, ordered by kind, group and name
 */
public record UsageSnapshot(Instant takenAt, LocalDate day, YearMonth month, List<AccountUsage> accounts) {

    public UsageSnapshot {
        Objects.requireNonNull(takenAt, "takenAt");
        Objects.requireNonNull(day, "day");
        Objects.requireNonNull(month, "month");
        accounts = List.copyOf(accounts);
    }

    /** Returns the accounts of {@code kind}, in order. */
    public List<AccountUsage> of(UsageKind kind) {
        List<AccountUsage> found = new ArrayList<>();
        for (AccountUsage a : accounts) {
            if (a.kind() == kind) {
                found.add(a);
            }
        }
        return found;
    }

    /** Returns the account of {@code kind} named {@code name} in {@code group} ({@code ""} for none). */
    public Optional<AccountUsage> find(UsageKind kind, String group, String name) {
        for (AccountUsage a : accounts) {
            if (a.kind() == kind && a.group().equals(group) && a.name().equals(name)) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }

    /**
     * The usage of one account.
     *
     * @param kind       what it counts
     * @param group      empty for clients, teams and routes; the provider of a key; a budget's name
     * @param name       the client, team, route, key id, or a budget's scope value
     * @param day        the counts of the snapshot's UTC day (kept across restarts when a data directory is set)
     * @param month      the counts of the snapshot's UTC month (kept across restarts likewise)
     * @param sinceStart the counts since this process started
     */
    public record AccountUsage(UsageKind kind, String group, String name, UsageCounts day, UsageCounts month,
                               UsageCounts sinceStart) {

        public AccountUsage {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(group, "group");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(day, "day");
            Objects.requireNonNull(month, "month");
            Objects.requireNonNull(sinceStart, "sinceStart");
        }
    }
}
