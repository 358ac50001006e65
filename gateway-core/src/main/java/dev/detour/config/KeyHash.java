package dev.detour.config;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The SHA-256 hash of a client or admin key: Detour stores hashes, never client keys.
 *
 * <p>Comparison is in constant time, so a caller cannot learn a hash byte by byte from timings.
 */
public final class KeyHash {

    private static final String PREFIX = "sha256:";
    /** One digest per thread: every authenticated request hashes its key, and looking one up costs more. */
    private static final ThreadLocal<MessageDigest> DIGESTS = ThreadLocal.withInitial(KeyHash::newDigest);

    private final byte[] digest;

    private KeyHash(byte[] digest) {
        this.digest = digest;
    }

    /**
     * Parses {@code sha256:<64 hex digits>} (the prefix is optional).
     *
     * @throws IllegalArgumentException if it is not a SHA-256 hex digest
     */
    public static KeyHash parse(String text) {
        String hex = text.startsWith(PREFIX) ? text.substring(PREFIX.length()) : text;
        if (hex.length() != 64) {
            throw new IllegalArgumentException("expected sha256:<64 hex digits>, got " + hex.length() + " characters");
        }
        try {
            return new KeyHash(HexFormat.of().parseHex(hex));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("expected sha256:<64 hex digits>, got a non-hex character");
        }
    }

    /** Returns the hash of {@code key}. */
    public static KeyHash of(String key) {
        return new KeyHash(sha256(Objects.requireNonNull(key, "key")));
    }

    /** Returns whether {@code key} hashes to this, in time independent of where they differ. */
    public boolean matches(String key) {
        return MessageDigest.isEqual(digest, sha256(key));
    }

    /** Returns whether {@code other} is the same hash, in constant time. */
    public boolean matches(KeyHash other) {
        return MessageDigest.isEqual(digest, other.digest);
    }

    /** Returns the {@code sha256:<hex>} form. */
    public String text() {
        return PREFIX + HexFormat.of().formatHex(digest);
    }

    static byte[] sha256(String key) {
        // digest() resets the digest for the next key; a thread's digest is never shared.
        return DIGESTS.get().digest(key.getBytes(StandardCharsets.UTF_8));
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyHash other && MessageDigest.isEqual(digest, other.digest);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(digest);
    }

    @Override
    public String toString() {
        return "KeyHash[" + text().substring(0, 15) + "...]";
    }
}
