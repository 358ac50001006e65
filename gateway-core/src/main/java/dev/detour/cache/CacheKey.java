package dev.detour.cache;

/**
 * The key of a cache entry: the SHA-256 of everything that makes two requests the same question (see
 * {@link CacheKeys}), held as four longs so that a lookup compares and hashes without touching an array.
 *
 * <p>Immutable and thread-safe.
 */
final class CacheKey {

    private final long h0;
    private final long h1;
    private final long h2;
    private final long h3;

    private CacheKey(long h0, long h1, long h2, long h3) {
        this.h0 = h0;
        this.h1 = h1;
        this.h2 = h2;
        this.h3 = h3;
    }

    /** Returns the key of a 32-byte SHA-256 digest. */
    static CacheKey of(byte[] sha256) {
        if (sha256.length != 32) {
            throw new IllegalArgumentException("sha256: " + sha256.length + " bytes (expected: 32)");
        }
        return new CacheKey(longAt(sha256, 0), longAt(sha256, 8), longAt(sha256, 16), longAt(sha256, 24));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CacheKey k && k.h0 == h0 && k.h1 == h1 && k.h2 == h2 && k.h3 == h3;
    }

    @Override
    public int hashCode() {
        // A digest is uniformly distributed already: any of its bits make a good hash.
        return (int) h0;
    }

    /** Returns the first 16 hex digits of the digest, enough to tell keys apart in logs. */
    @Override
    public String toString() {
        return "CacheKey[" + String.format("%016x", h0) + "]";
    }

    private static long longAt(byte[] b, int at) {
        long v = 0;
        for (int i = at; i < at + 8; i++) {
            v = v << 8 | (b[i] & 0xFF);
        }
        return v;
    }
}
