package dev.detour.filter;

import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Who is calling: the client whose key authenticated the request, with what policies match on.
 *
 * @param client      the client's name from config, or {@code anonymous}
 * @param team        its team
 * @param tier        its tier
 * @param metadata    its labels from config
 * @param canOverride which context headers it may set: {@code user}, {@code session}, {@code priority}, {@code tier}
 */
public record Caller(String client, String team, String tier, Map<String, String> metadata,
                     Set<String> canOverride) {

    /** The caller when authentication is off: local use, so every context header is honoured. */
    public static final Caller ANONYMOUS = new Caller("anonymous", "default", "default", Map.of(),
                                                      Set.of("user", "session", "priority", "tier"));

    public Caller {
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(team, "team");
        Objects.requireNonNull(tier, "tier");
        metadata = Map.copyOf(metadata);
        canOverride = Set.copyOf(canOverride);
    }
}
