package dev.detour.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.config.BudgetConfig.Period;
import dev.detour.testing.FakeClock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class UsageLedgerTest {

    private final FakeClock clock = new FakeClock(); // 2026-11-22T10:00:00Z
    private final UsageLedger ledger = new UsageLedger(clock);

    private void moveTo(String instant) {
        clock.advanceNanos(Duration.between(clock.instant(), Instant.parse(instant)).toNanos());
    }

    private void add(UsageAccount account, long prompt, long completion, long cached, long cost) {
        account.add(ledger.now(), prompt, completion, cached, cost);
        ledger.changed();
    }

    @Test
    void addsRequestsTokensAndCostToTheDayTheMonthAndSinceStart() {
        UsageAccount team = ledger.account(UsageKind.TEAM, "", "research");

        add(team, 100, 20, 64, 1_500);
        add(team, 50, 5, 0, 500);

        UsageCounts expected = new UsageCounts(2, 150, 25, 64, 2_000);
        assertEquals(expected, team.counts(Period.DAY, ledger.now()));
        assertEquals(expected, team.counts(Period.MONTH, ledger.now()));
        assertEquals(expected, team.sinceStart());
        assertEquals(175, team.tokens(Period.DAY, ledger.now()));
        assertEquals(2_000, team.costMicros(Period.MONTH, ledger.now()));
    }

    @Test
    void returnsOneAccountPerKindGroupAndName() {
        UsageAccount k1 = ledger.account(UsageKind.KEY, "openai", "k1");

        assertSame(k1, ledger.account(UsageKind.KEY, "openai", "k1"));
        assertTrue(k1 != ledger.account(UsageKind.KEY, "azure", "k1"), "key ids are per provider");
        assertTrue(k1 != ledger.account(UsageKind.CLIENT, "openai", "k1"), "kinds are apart");
    }

    @Test
    void startsANewDayAtUtcMidnightAndKeepsTheMonth() {
        UsageAccount client = ledger.account(UsageKind.CLIENT, "", "alice");
        moveTo("2026-11-22T23:59:59.999Z");
        add(client, 10, 0, 0, 100);

        moveTo("2026-11-23T00:00:00Z");

        assertEquals(UsageCounts.ZERO, client.counts(Period.DAY, ledger.now()), "a new day starts empty");
        assertEquals(100, client.costMicros(Period.MONTH, ledger.now()), "the month goes on");
        add(client, 1, 0, 0, 7);
        assertEquals(7, client.costMicros(Period.DAY, ledger.now()));
        assertEquals(107, client.costMicros(Period.MONTH, ledger.now()));
        assertEquals(LocalDate.parse("2026-11-23"), ledger.now().day());
        assertEquals(Instant.parse("2026-11-24T00:00:00Z"), ledger.now().dayEnds());
    }

    @Test
    void startsANewMonthOnTheFirstAtUtcMidnight() {
        UsageAccount client = ledger.account(UsageKind.CLIENT, "", "alice");
        moveTo("2026-11-30T23:59:59Z");
        add(client, 10, 0, 0, 100);
        assertEquals(Instant.parse("2026-12-01T00:00:00Z"), ledger.now().monthEnds());

        moveTo("2026-12-01T00:00:00Z");

        assertEquals(0, client.costMicros(Period.MONTH, ledger.now()));
        assertEquals(0, client.costMicros(Period.DAY, ledger.now()));
        assertEquals(100, client.sinceStart().costMicros(), "since start is not a calendar window");
        assertEquals(YearMonth.parse("2026-12"), ledger.now().month());
        assertEquals(Instant.parse("2027-01-01T00:00:00Z"), ledger.now().monthEnds());
    }

    @Test
    void monthsOfEveryLengthEndOnTheirLastDay() {
        assertEquals(Instant.parse("2028-03-01T00:00:00Z"),
                     UsageWindows.at(Instant.parse("2028-02-29T12:00:00Z")).monthEnds(), "leap February");
        assertEquals(Instant.parse("2027-03-01T00:00:00Z"),
                     UsageWindows.at(Instant.parse("2027-02-28T23:59:59Z")).monthEnds());
        assertEquals(Instant.parse("2027-01-01T00:00:00Z"),
                     UsageWindows.at(Instant.parse("2026-12-31T23:59:59Z")).monthEnds(), "a new year");
    }

    @Test
    void snapshotListsAccountsInOrderWithTheirWindows() {
        add(ledger.account(UsageKind.TEAM, "", "research"), 10, 1, 0, 5);
        add(ledger.account(UsageKind.CLIENT, "", "bob"), 20, 2, 0, 6);
        add(ledger.account(UsageKind.CLIENT, "", "alice"), 30, 3, 0, 7);
        ledger.account(UsageKind.ROUTE, "", "unused");

        UsageSnapshot snapshot = ledger.snapshot();

        assertEquals(List.of("alice", "bob", "research"),
                     snapshot.accounts().stream().map(UsageSnapshot.AccountUsage::name).toList(),
                     "clients before teams, names in order, accounts without usage left out");
        assertEquals(LocalDate.parse("2026-11-22"), snapshot.day());
        UsageSnapshot.AccountUsage bob = snapshot.find(UsageKind.CLIENT, "", "bob").orElseThrow();
        assertEquals(new UsageCounts(1, 20, 2, 0, 6), bob.day());
        assertEquals(bob.day(), bob.month());
        assertEquals(2, snapshot.of(UsageKind.CLIENT).size());
    }

    @Test
    void restoresOnlyWindowsThatAreNotOver() {
        UsageCounts saved = new UsageCounts(3, 300, 30, 0, 9_000);
        UsageSnapshot yesterday = new UsageSnapshot(Instant.parse("2026-11-21T23:00:00Z"),
                LocalDate.parse("2026-11-21"), YearMonth.parse("2026-11"),
                List.of(new UsageSnapshot.AccountUsage(UsageKind.TEAM, "", "research", saved, saved,
                                                       UsageCounts.ZERO)));

        ledger.restore(yesterday);

        UsageAccount team = ledger.account(UsageKind.TEAM, "", "research");
        assertEquals(UsageCounts.ZERO, team.counts(Period.DAY, ledger.now()), "yesterday is over");
        assertEquals(saved, team.counts(Period.MONTH, ledger.now()), "the month is not");
        assertEquals(UsageCounts.ZERO, team.sinceStart());
    }

    @Test
    void countsExactlyUnderConcurrency() throws Exception {
        int threads = 8;
        int perThread = 20_000;
        UsageAccount team = ledger.account(UsageKind.TEAM, "", "research");
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        try {
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        // Each thread also creates accounts, racing the others on the maps.
                        ledger.account(UsageKind.CLIENT, "", "client-" + (i % 50)).add(ledger.now(), 3, 2, 1, 7);
                        team.add(ledger.now(), 3, 2, 1, 7);
                        ledger.changed();
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        long n = (long) threads * perThread;
        assertEquals(new UsageCounts(n, 3 * n, 2 * n, n, 7 * n), team.counts(Period.DAY, ledger.now()));
        assertEquals(team.counts(Period.DAY, ledger.now()), team.sinceStart());
        long clientRequests = 0;
        for (UsageSnapshot.AccountUsage a : ledger.snapshot().of(UsageKind.CLIENT)) {
            clientRequests += a.month().requests();
        }
        assertEquals(n, clientRequests);
        assertEquals(n, ledger.changes());
    }
}
