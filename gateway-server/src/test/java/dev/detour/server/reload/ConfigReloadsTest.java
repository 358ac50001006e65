package dev.detour.server.reload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ConfigReloadsTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private final ConfigVersion v1 = new ConfigVersion(1, Optional.of("a".repeat(64)), "gateway.yaml", T0);
    private final ConfigReloads reloads = new ConfigReloads(v1);

    private ReloadResult result(ReloadResult.Outcome outcome, ConfigVersion version, List<String> problems,
                                List<RestartOnlyChange> restart) {
        return new ReloadResult(outcome, "admin", T0.plusSeconds(version.number()), version, problems, restart);
    }

    @Test
    void startsAtTheInitialVersionWithNothingRecorded() {
        assertEquals(v1, reloads.current());
        assertEquals(0, reloads.successes());
        assertEquals(0, reloads.failures());
        assertTrue(reloads.lastAttempt().isEmpty() && reloads.lastError().isEmpty() && reloads.lastSuccess().isEmpty());
    }

    @Test
    void appliedReloadMovesTheVersionAndKeepsTheLastError() {
        reloads.record(result(ReloadResult.Outcome.REFUSED, v1, List.of("gateway.yaml:3:1 x: bad", "y"), List.of()));
        ConfigVersion v2 = new ConfigVersion(2, Optional.of("b".repeat(64)), "gateway.yaml", T0.plusSeconds(5));
        List<RestartOnlyChange> restart = List.of(new RestartOnlyChange("server.port", "1", "2"));

        reloads.record(result(ReloadResult.Outcome.APPLIED, v2, List.of(), restart));

        assertEquals(v2, reloads.current());
        assertEquals(1, reloads.successes());
        assertEquals(1, reloads.failures());
        assertEquals(Optional.of(T0.plusSeconds(2)), reloads.lastSuccess());
        assertEquals(ReloadResult.Outcome.APPLIED, reloads.lastAttempt().orElseThrow().outcome());
        assertEquals(Optional.of("gateway.yaml:3:1 x: bad\ny"), reloads.lastError());
        assertEquals(restart, reloads.pendingRestart());
    }

    @Test
    void unchangedReloadCountsNeitherWay() {
        reloads.record(result(ReloadResult.Outcome.UNCHANGED, v1, List.of(), List.of()));

        assertEquals(0, reloads.successes() + reloads.failures());
        assertEquals(ReloadResult.Outcome.UNCHANGED, reloads.lastAttempt().orElseThrow().outcome());
        assertEquals(v1, reloads.current());
    }
}
