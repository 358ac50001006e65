package dev.detour.auth;

import dev.detour.config.KeyHash;
import dev.detour.filter.RequestHeaders;
import java.util.List;
import java.util.Objects;

/**
 * Decides who may call {@code /admin/*}: a caller presenting one of the admin keys
 * ({@code auth.admin-keys}), in the same header forms as client keys.
 *
 * <p>The presented key is hashed once and compared with every admin key in constant time, without
 * stopping at a match, so timing reveals neither which key matched nor how much of one did.
 * When no admin keys are configured, {@link #configured()} is {@code false} and the server falls back
 * to serving admin views to localhost only.
 *
 * <p>Immutable and thread-safe; built once per config.
 */
public final class AdminAuth {

    private final KeyHash[] keys;

    /** Creates a gate for {@code adminKeys}; an empty list means none are configured. */
    public AdminAuth(List<KeyHash> adminKeys) {
        this.keys = List.copyOf(Objects.requireNonNull(adminKeys, "adminKeys")).toArray(new KeyHash[0]);
    }

    /** Returns whether any admin key is configured. */
    public boolean configured() {
        return keys.length > 0;
    }

    /** Returns whether {@code headers} carry an admin key; always {@code false} when none is configured. */
    public boolean allows(RequestHeaders headers) {
        String key = PresentedKey.from(Objects.requireNonNull(headers, "headers"));
        if (key == null || keys.length == 0) {
            return false;
        }
        KeyHash presented = KeyHash.of(key);
        boolean match = false;
        for (KeyHash k : keys) {
            match |= k.matches(presented);
        }
        return match;
    }

    @Override
    public String toString() {
        return "AdminAuth[" + keys.length + " keys]";
    }
}
