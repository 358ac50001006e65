package dev.detour.usage;

import java.util.Locale;

/**
 * What a {@link UsageAccount} counts the usage of. Each account is named by a group and a name: the group is
 * empty for clients, teams and routes, the provider for a key, and the budget for a budget's scope value.
 */
public enum UsageKind {
    /** A client (its name from config, or {@code anonymous}); group empty. */
    CLIENT,
    /** A team; group empty. */
    TEAM,
    /** A route: the model name the client asked for, after any policy or budget re-route; group empty. */
    ROUTE,
    /** An upstream key: group the provider, name the key id. */
    KEY,
    /** A budget: group the budget's name, name its scope value (client, team, or {@code *} for global). */
    BUDGET;

    /** Returns the name used in files and admin output: {@code client}, {@code team}, ... */
    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Returns the kind named {@code name} by {@link #jsonName()}, or {@code null}. */
    static UsageKind ofJsonName(String name) {
        for (UsageKind k : values()) {
            if (k.jsonName().equals(name)) {
                return k;
            }
        }
        return null;
    }
}
