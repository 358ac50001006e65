package dev.detour.config;

import java.util.Locale;

/** What happens to a key whose quota is exhausted (billing, spend cap, daily quota). */
public enum ExhaustionMode {
    /** Out for the provider's reset, or the pool's exhausted period, then one probe decides. */
    COOLDOWN,
    /** Out until an operator enables it again. */
    DISABLE;

    /** Returns the YAML spelling. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
