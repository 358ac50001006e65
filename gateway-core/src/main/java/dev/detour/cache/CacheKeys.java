package dev.detour.cache;

import dev.detour.api.Endpoint;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Computes {@link CacheKey}s: the SHA-256 of the endpoint, the scope value (whose entries these are), the
 * route's fingerprint (its name and targets) and the {@linkplain RequestCanonicalizer canonical} body.
 *
 * <p>Each part is length-prefixed, so no choice of values can make two different tuples hash alike.
 * Thread-safe: each thread hashes with a digest of its own, reset before each key.
 */
final class CacheKeys {

    private static final MessageDigest PROTOTYPE = sha256();
    private static final byte[][] PATHS = paths();
    /** Per thread: a key is computed synchronously on the request's thread and never calls back in here. */
    private static final ThreadLocal<Hasher> HASHERS = ThreadLocal.withInitial(Hasher::new);

    private CacheKeys() {
    }

    /**
     * Returns the key of a request.
     *
     * @param endpoint    the API endpoint
     * @param scope       who shares the entry: {@code team:NAME}, {@code client:NAME} or empty for everyone
     * @param fingerprint the route's fingerprint
     * @param body        the client's JSON body
     * @throws IOException if the body is not a JSON object
     */
    static CacheKey of(Endpoint endpoint, String scope, byte[] fingerprint, InputStream body) throws IOException {
        Hasher hasher = HASHERS.get();
        MessageDigest digest = hasher.digest;
        digest.reset(); // a key that failed half-way left its parts in the digest
        part(digest, PATHS[endpoint.ordinal()]);
        part(digest, scope.getBytes(StandardCharsets.UTF_8));
        part(digest, fingerprint);
        RequestCanonicalizer.write(body, hasher.sink);
        try {
            digest.digest(hasher.sha256, 0, hasher.sha256.length);
        } catch (DigestException e) {
            throw new IllegalStateException("SHA-256 digests are 32 bytes", e);
        }
        return CacheKey.of(hasher.sha256);
    }

    private static void part(MessageDigest digest, byte[] bytes) {
        int n = bytes.length;
        digest.update((byte) (n >>> 24));
        digest.update((byte) (n >>> 16));
        digest.update((byte) (n >>> 8));
        digest.update((byte) n);
        digest.update(bytes);
    }

    private static byte[][] paths() {
        Endpoint[] endpoints = Endpoint.values();
        byte[][] paths = new byte[endpoints.length][];
        for (Endpoint e : endpoints) {
            paths[e.ordinal()] = e.path().getBytes(StandardCharsets.US_ASCII);
        }
        return paths;
    }

    private static MessageDigest newDigest() {
        try {
            return (MessageDigest) PROTOTYPE.clone();
        } catch (CloneNotSupportedException e) {
            return sha256(); // a provider whose digests cannot be cloned: look one up
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }

    /** A thread's digest, the stream that feeds it, and the array its result lands in. */
    private static final class Hasher {
        final MessageDigest digest = newDigest();
        final OutputStream sink = new DigestSink(digest);
        final byte[] sha256 = new byte[32];
    }

    /** Feeds what is written into a digest. */
    private static final class DigestSink extends OutputStream {
        private final MessageDigest digest;

        DigestSink(MessageDigest digest) {
            this.digest = digest;
        }

        @Override
        public void write(int b) {
            digest.update((byte) b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            digest.update(b, off, len);
        }
    }
}
