package dev.detour.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.config.BudgetConfig.Period;
import dev.detour.config.UsageConfig;
import dev.detour.testing.FakeClock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UsagePersistenceTest {

    /** Long enough that the periodic write never runs during a test: the tests call flush() themselves. */
    private static final Duration MANUAL = Duration.ofHours(1);

    @TempDir
    Path dir;

    private final FakeClock clock = new FakeClock(); // 2026-11-22T10:00:00Z

    private UsageConfig config(Path dataDir) {
        return new UsageConfig(Optional.of(dataDir), MANUAL);
    }

    private static void spend(UsageLedger ledger, UsageKind kind, String group, String name, long cost) {
        ledger.account(kind, group, name).add(ledger.now(), 100, 10, 5, cost);
        ledger.changed();
    }

    @Test
    void keepsTheDayAndMonthAcrossARestart() throws Exception {
        UsageLedger before = new UsageLedger(clock);
        try (UsagePersistence p = UsagePersistence.open(config(dir), before)) {
            spend(before, UsageKind.TEAM, "", "research", 4_000_000);
            spend(before, UsageKind.BUDGET, "team-monthly", "research", 4_000_000);
            spend(before, UsageKind.KEY, "openai", "k1", 1);
        } // close() writes the last snapshot

        clock.advanceMillis(60_000);
        UsageLedger after = new UsageLedger(clock);
        try (UsagePersistence p = UsagePersistence.open(config(dir), after)) {
            UsageAccount budget = after.account(UsageKind.BUDGET, "team-monthly", "research");
            assertEquals(new UsageCounts(1, 100, 10, 5, 4_000_000), budget.counts(Period.MONTH, after.now()));
            assertEquals(4_000_000, budget.costMicros(Period.DAY, after.now()));
            assertEquals(1, after.account(UsageKind.KEY, "openai", "k1").costMicros(Period.DAY, after.now()));
            assertEquals(UsageCounts.ZERO, budget.sinceStart(), "since start means since this process started");
            assertEquals(Optional.of(dir.resolve("usage.json")), p.file());
        }
    }

    @Test
    void forgetsTheDayButNotTheMonthAfterMidnight() throws Exception {
        UsageLedger before = new UsageLedger(clock);
        try (UsagePersistence p = UsagePersistence.open(config(dir), before)) {
            spend(before, UsageKind.CLIENT, "", "alice", 700);
        }

        clock.advanceNanos(Duration.ofHours(14).toNanos()); // 2026-11-23T00:00Z
        UsageLedger after = new UsageLedger(clock);
        try (UsagePersistence p = UsagePersistence.open(config(dir), after)) {
            UsageAccount alice = after.account(UsageKind.CLIENT, "", "alice");
            assertEquals(0, alice.costMicros(Period.DAY, after.now()));
            assertEquals(700, alice.costMicros(Period.MONTH, after.now()));
        }
    }

    @Test
    void writesOnlyWhenSomethingWasCounted() throws Exception {
        UsageLedger ledger = new UsageLedger(clock);
        try (UsagePersistence p = UsagePersistence.open(config(dir), ledger)) {
            spend(ledger, UsageKind.CLIENT, "", "alice", 1);
            p.flush();
            String first = Files.readString(dir.resolve("usage.json"));

            clock.advanceMillis(5_000);
            p.flush();
            assertEquals(first, Files.readString(dir.resolve("usage.json")), "nothing new: not rewritten");

            spend(ledger, UsageKind.CLIENT, "", "alice", 1);
            p.flush();
            assertTrue(Files.readString(dir.resolve("usage.json")).contains("\"written_at\":\"2026-11-22T10:00:05Z\""));
        }
    }

    @Test
    void refusesToStartOnADamagedFileAndNamesIt() throws Exception {
        Path file = dir.resolve("usage.json");
        String[] damaged = {
            "{\"format\":1,\"written_at\":\"2026-11-22T10:00:00Z\",\"day\":\"2026-11-22\",\"month\":\"2026-1",
            "[]",
            "{\"format\":2,\"written_at\":\"2026-11-22T10:00:00Z\",\"day\":\"2026-11-22\",\"month\":\"2026-11\","
            + "\"accounts\":[]}",
            "{\"format\":1,\"written_at\":\"2026-11-22T10:00:00Z\",\"day\":\"yesterday\",\"month\":\"2026-11\","
            + "\"accounts\":[]}",
            "{\"format\":1,\"written_at\":\"2026-11-22T10:00:00Z\",\"day\":\"2026-11-22\",\"month\":\"2026-11\","
            + "\"accounts\":[{\"kind\":\"team\",\"group\":\"\",\"name\":\"x\",\"day\":{\"requests\":-1,"
            + "\"prompt_tokens\":0,\"completion_tokens\":0,\"cached_tokens\":0,\"cost_micros\":0},\"month\":{}}]}",
            "{\"format\":1,\"written_at\":\"2026-11-22T10:00:00Z\",\"day\":\"2026-11-22\",\"month\":\"2026-11\","
            + "\"accounts\":[{\"kind\":\"planet\",\"group\":\"\",\"name\":\"x\"}]}",
        };
        for (String text : damaged) {
            Files.writeString(file, text);

            UsageFileException e = assertThrows(UsageFileException.class,
                                                () -> UsagePersistence.open(config(dir), new UsageLedger(clock)));

            assertTrue(e.getMessage().startsWith("the usage file " + file + " is damaged: "), e.getMessage());
            assertTrue(e.getMessage().contains("move it aside"), e.getMessage());
            assertEquals(text, Files.readString(file), "a damaged file is left for the operator");
        }
    }

    @Test
    void refusesToStartWhereTheDataDirectoryCannotBeMade() throws Exception {
        Path notADirectory = Files.writeString(dir.resolve("plain-file"), "x");

        UsageFileException e = assertThrows(UsageFileException.class, () ->
                UsagePersistence.open(config(notADirectory.resolve("usage")), new UsageLedger(clock)));

        assertTrue(e.getMessage().startsWith("cannot create usage.data-dir " + notADirectory.resolve("usage")),
                   e.getMessage());
    }

    @Test
    void ignoresATempFileLeftByACrashMidWrite() throws Exception {
        UsageLedger before = new UsageLedger(clock);
        try (UsagePersistence p = UsagePersistence.open(config(dir), before)) {
            spend(before, UsageKind.TEAM, "", "research", 42);
        }
        Files.writeString(dir.resolve("usage.json.tmp"), "{\"format\":1,\"accou");

        UsageLedger after = new UsageLedger(clock);
        try (UsagePersistence p = UsagePersistence.open(config(dir), after)) {
            assertEquals(42, after.account(UsageKind.TEAM, "", "research").costMicros(Period.DAY, after.now()));
        }
        assertFalse(Files.exists(dir.resolve("usage.json.tmp")), "every write renames its temp file away");
    }

    @Test
    void aFailedWriteLeavesThePreviousFileWhole() throws Exception {
        UsageLedger ledger = new UsageLedger(clock);
        try (UsagePersistence p = UsagePersistence.open(config(dir), ledger)) {
            spend(ledger, UsageKind.TEAM, "", "research", 42);
            p.flush();
            String good = Files.readString(dir.resolve("usage.json"));
            Files.createDirectory(dir.resolve("usage.json.tmp")); // the next write cannot create its temp file

            spend(ledger, UsageKind.TEAM, "", "research", 1);
            assertThrows(IOException.class, p::flush);

            assertEquals(good, Files.readString(dir.resolve("usage.json")));
            Files.delete(dir.resolve("usage.json.tmp"));
            p.flush();
            assertTrue(Files.readString(dir.resolve("usage.json")).contains("\"cost_micros\":43"),
                       "the next write catches up");
        }
    }

    @Test
    void writesAReadableDocument() throws Exception {
        UsageLedger ledger = new UsageLedger(clock);
        spend(ledger, UsageKind.KEY, "openai", "k1", 1_234);

        String json = new String(UsageFile.render(ledger.snapshot()), StandardCharsets.UTF_8);

        assertEquals("{\"format\":1,\"written_at\":\"2026-11-22T10:00:00Z\",\"day\":\"2026-11-22\","
                     + "\"month\":\"2026-11\",\"accounts\":[{\"kind\":\"key\",\"group\":\"openai\",\"name\":\"k1\","
                     + "\"day\":{\"requests\":1,\"prompt_tokens\":100,\"completion_tokens\":10,\"cached_tokens\":5,"
                     + "\"cost_micros\":1234},"
                     + "\"month\":{\"requests\":1,\"prompt_tokens\":100,\"completion_tokens\":10,\"cached_tokens\":5,"
                     + "\"cost_micros\":1234}}]}", json);
    }

    @Test
    void keepsUsageInMemoryWithoutADataDirectory() throws Exception {
        UsageLedger ledger = new UsageLedger(clock);
        try (UsagePersistence p = UsagePersistence.open(UsageConfig.ofDefault(), ledger)) {
            spend(ledger, UsageKind.TEAM, "", "research", 1);
            p.flush();

            assertEquals(Optional.empty(), p.file());
        }
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count());
        }
    }
}
