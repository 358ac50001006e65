package dev.detour.config;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A policy: requests whose context matches get its limits, route mapping and admission rule. The first
 * matching policy applies.
 *
 * @param name      a name shown in {@code x-detour-policy} and the access log
 * @param match     which requests it applies to
 * @param limits    limits added for these requests
 * @param routes    requested model → route actually used (e.g. critical traffic to a route with a reserved pool)
 * @param admission refusal of lower-priority traffic when capacity runs low, or {@link Admission#NONE}
 */
public record PolicyConfig(String name, Match match, List<LimitConfig> limits, Map<String, String> routes,
                           Admission admission) {

    public PolicyConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(match, "match");
        Objects.requireNonNull(admission, "admission");
        limits = List.copyOf(limits);
        routes = Map.copyOf(routes);
    }

    /**
     * Under scarcity, refuse some priorities first.
     *
     * @param reserve share of a route's key capacity kept back (0 to 1): when less than this is available,
     *                requests of a {@code refuse}d priority get 429
     * @param refuse  the priorities refused under scarcity, e.g. {@code batch}
     */
    public record Admission(double reserve, Set<String> refuse) {

        /** No admission rule. */
        public static final Admission NONE = new Admission(0, Set.of());

        public Admission {
            refuse = Set.copyOf(refuse);
            if (reserve < 0 || reserve > 1) {
                throw new IllegalArgumentException("reserve: " + reserve + " (expected: 0 to 1)");
            }
        }
    }
}
