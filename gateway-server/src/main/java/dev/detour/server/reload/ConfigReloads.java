package dev.detour.server.reload;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The record of config reloads for admin views and metrics: counts of applied and refused reloads, the last
 * attempt and the last refusal with its problems, the version running, and the restart-only settings the file
 * changed.
 *
 * <p>Thread-safe: written by the one thread that reloads, read from anywhere. Each read sees one consistent
 * state (an immutable snapshot behind a volatile field).
 */
public final class ConfigReloads {

    private volatile State state;

    /** Starts the record at the version the gateway started with. */
    public ConfigReloads(ConfigVersion initial) {
        this.state = new State(Objects.requireNonNull(initial, "initial"), 0, 0, Optional.empty(), Optional.empty(),
                               Optional.empty(), List.of());
    }

    /** Returns the version running. */
    public ConfigVersion current() {
        return state.current;
    }

    /** Returns how many reloads were applied. */
    public long successes() {
        return state.successes;
    }

    /** Returns how many reloads were refused (unreadable or invalid file). */
    public long failures() {
        return state.failures;
    }

    /** Returns when a reload was last applied; empty before the first. */
    public Optional<Instant> lastSuccess() {
        return state.lastSuccess;
    }

    /** Returns the last attempt, whatever its outcome; empty before the first. */
    public Optional<ReloadResult> lastAttempt() {
        return state.lastAttempt;
    }

    /** Returns the last refused attempt, with its problems; empty when none was refused. */
    public Optional<ReloadResult> lastFailure() {
        return state.lastFailure;
    }

    /** Returns the last refusal's problems as one text, one problem a line; empty when none was refused. */
    public Optional<String> lastError() {
        return state.lastFailure.map(r -> String.join("\n", r.problems()));
    }

    /** Returns the restart-only settings whose value in the running version's file differs from the one in use. */
    public List<RestartOnlyChange> pendingRestart() {
        return state.pendingRestart;
    }

    /** Records {@code result}. Called by the reloading thread only. */
    public void record(ReloadResult result) {
        State s = state;
        switch (result.outcome()) {
            case APPLIED:
                state = new State(result.version(), s.successes + 1, s.failures, Optional.of(result.at()),
                                  Optional.of(result), s.lastFailure, result.restartNeeded());
                break;
            case REFUSED:
                state = new State(s.current, s.successes, s.failures + 1, s.lastSuccess, Optional.of(result),
                                  Optional.of(result), s.pendingRestart);
                break;
            default:
                state = new State(s.current, s.successes, s.failures, s.lastSuccess, Optional.of(result),
                                  s.lastFailure, s.pendingRestart);
                break;
        }
    }

    private record State(ConfigVersion current, long successes, long failures, Optional<Instant> lastSuccess,
                         Optional<ReloadResult> lastAttempt, Optional<ReloadResult> lastFailure,
                         List<RestartOnlyChange> pendingRestart) {
    }
}
