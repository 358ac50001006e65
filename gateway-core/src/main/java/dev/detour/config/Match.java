package dev.detour.config;

import java.util.List;
import java.util.Map;

/**
 * Conditions on a request's context; every condition given must hold. Values are globs ({@code *}, {@code ?}).
 *
 * @param clients  client names
 * @param teams    team names
 * @param tiers    tiers
 * @param routes   requested models (route names)
 * @param priority priorities: {@code critical}, {@code interactive}, {@code batch}
 * @param metadata client metadata entries that must match
 */
public record Match(List<String> clients, List<String> teams, List<String> tiers, List<String> routes,
                    List<String> priority, Map<String, String> metadata) {

    /** Matches everything. */
    public static final Match ANY = new Match(List.of(), List.of(), List.of(), List.of(), List.of(), Map.of());

    public Match {
        clients = List.copyOf(clients);
        teams = List.copyOf(teams);
        tiers = List.copyOf(tiers);
        routes = List.copyOf(routes);
        priority = List.copyOf(priority);
        metadata = Map.copyOf(metadata);
    }

    /** Returns whether {@code value} matches one of {@code globs}; an empty list matches anything. */
    public static boolean anyGlob(List<String> globs, String value) {
        if (globs.isEmpty()) {
            return true;
        }
        if (value == null) {
            return false;
        }
        for (String glob : globs) {
            if (glob(glob, value)) {
                return true;
            }
        }
        return false;
    }

    /** Returns whether {@code value} matches {@code glob}, where {@code *} is any run and {@code ?} one character. */
    public static boolean glob(String glob, String value) {
        int g = 0;
        int v = 0;
        int star = -1;
        int mark = 0;
        while (v < value.length()) {
            if (g < glob.length() && (glob.charAt(g) == '?' || glob.charAt(g) == value.charAt(v))) {
                g++;
                v++;
            } else if (g < glob.length() && glob.charAt(g) == '*') {
                star = g++;
                mark = v;
            } else if (star >= 0) {
                g = star + 1;
                v = ++mark;
            } else {
                return false;
            }
        }
        while (g < glob.length() && glob.charAt(g) == '*') {
            g++;
        }
        return g == glob.length();
    }

}
