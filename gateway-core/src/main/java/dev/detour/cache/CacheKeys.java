package dev.detour.cache;

import dev.detour.api.Endpoint;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Computes {@link CacheKey}s: the SHA-256 of the endpoint, the scope value (whose entries these are), the
 * route's fingerprint (its name and targets) and the {@linkplain RequestCanonicalizer canonical} body.
 *
 * <p>Each part is length-prefixed, so no choice of values can make two different tuples hash alike.
 * Stateless and thread-safe.
 */
final class CacheKeys {

    private static final MessageDigest PROTOTYPE = sha256();

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
        MessageDigest digest = newDigest();
        part(digest, endpoint.path().getBytes(StandardCharsets.US_ASCII));
        part(digest, scope.getBytes(StandardCharsets.UTF_8));
        part(digest, fingerprint);
        RequestCanonicalizer.write(body, new DigestSink(digest));
        return CacheKey.of(digest.digest());
    }

    private static void part(MessageDigest digest, byte[] bytes) {
        int n = bytes.length;
        digest.update((byte) (n >>> 24));
        digest.update((byte) (n >>> 16));
        digest.update((byte) (n >>> 8));
        digest.update((byte) n);
        digest.update(bytes);
    }

    private static MessageDigest newDigest() {
        try {
            return (MessageDigest) PROTOTYPE.clone();
        } catch (CloneNotSupportedException e) {
            return sha256(); // a provider whose digests cannot be cloned: look one up each time
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
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
