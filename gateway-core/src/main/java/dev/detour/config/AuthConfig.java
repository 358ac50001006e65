package dev.detour.config;

import java.util.List;

/**
 * Client authentication.
 *
 * @param enabled   whether API requests need a client key; {@code false} is for local use only
 * @param adminKeys hashes of the keys that may call {@code /admin/*}; empty: admin is served to localhost only
 */
public record AuthConfig(boolean enabled, List<KeyHash> adminKeys) {

    public AuthConfig {
        adminKeys = List.copyOf(adminKeys);
    }

    /** Returns the defaults: authentication off (the default config says so loudly), no admin keys. */
    public static AuthConfig ofDefault() {
        return new AuthConfig(false, List.of());
    }
}
