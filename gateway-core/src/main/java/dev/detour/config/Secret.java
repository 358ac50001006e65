package dev.detour.config;

import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A secret value (an upstream API key, a client key) that never prints itself.
 *
 * <p>{@link #toString()} is redacted, so records that hold a secret can be logged whole. Use
 * {@link #reveal()} only where the value goes on the wire, and {@link #masked()} wherever a human
 * needs to tell keys apart.
 */
public final class Secret {

    private static final Secret EMPTY = new Secret("");

    private final String value;
    /** {@code "Bearer " + value}, made on first use: sent on every request, built once per key. */
    private String bearer;

    private Secret(String value) {
        this.value = value;
    }

    /** Returns a secret holding {@code value}. */
    public static Secret of(String value) {
        Objects.requireNonNull(value, "value");
        return value.isEmpty() ? EMPTY : new Secret(value);
    }

    /** Returns the empty secret, used by providers that need no credential. */
    public static Secret empty() {
        return EMPTY;
    }

    /** Returns the raw value, for the one place it is sent upstream. */
    public String reveal() {
        return value;
    }

    /**
     * Returns {@code "Bearer " + value}, the {@code Authorization} header value, for the one place it is sent
     * upstream. Built once per key rather than per request (a benign race: every thread builds the same string).
     */
    public String bearer() {
        String b = bearer;
        if (b == null) {
            b = "Bearer " + value;
            bearer = b;
        }
        return b;
    }

    /** Returns whether there is no value. */
    public boolean isEmpty() {
        return value.isEmpty();
    }

    /** Returns a display form that shows at most the last four characters, e.g. {@code ...9f2c}. */
    public String masked() {
        if (value.isEmpty()) {
            return "(none)";
        }
        if (value.length() < 12) {
            return "****";
        }
        return "..." + value.substring(value.length() - 4);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Secret other
                && MessageDigest.isEqual(value.getBytes(StandardCharsets.UTF_8),
                                         other.value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }

    @Override
    public String toString() {
        return "Secret[" + masked() + "]";
    }
}
