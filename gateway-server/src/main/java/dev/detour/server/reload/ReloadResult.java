package dev.detour.server.reload;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What one reload attempt did.
 *
 * @param outcome       applied, unchanged or refused
 * @param trigger       what asked for it: {@code file}, {@code signal} or {@code admin}
 * @param at            when it finished
 * @param version       the version running afterwards: the new one when applied, the old one otherwise
 * @param problems      why it was refused, one {@code file:line:col path: message} line per problem; empty
 *                      unless refused
 * @param restartNeeded restart-only settings whose value in the file differs from the running one (after an
 *                      applied reload; empty otherwise)
 */
public record ReloadResult(Outcome outcome, String trigger, Instant at, ConfigVersion version, List<String> problems,
                           List<RestartOnlyChange> restartNeeded) {

    public ReloadResult {
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(trigger, "trigger");
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(version, "version");
        problems = List.copyOf(problems);
        restartNeeded = List.copyOf(restartNeeded);
    }

    /** How a reload attempt ended. */
    public enum Outcome {
        /** The new config is running. */
        APPLIED,
        /** The file's text had not changed since the running version: nothing was done. */
        UNCHANGED,
        /** The file could not be read or is not a valid config: the running version stays. */
        REFUSED
    }
}
