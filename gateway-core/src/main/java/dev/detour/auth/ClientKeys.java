package dev.detour.auth;

import java.security.SecureRandom;
import java.util.Base64;

/**
 * Makes new client and admin keys: {@code dtr_} followed by 43 characters of the URL-safe base64
 * alphabet, i.e. 256 bits from a {@link SecureRandom}. Thread-safe.
 */
public final class ClientKeys {

    /** The prefix of every key Detour makes, so that a leaked one is easy to recognise and search for. */
    public static final String PREFIX = "dtr_";

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int BYTES = 32;

    private ClientKeys() {
    }

    /** Returns a new random key. Give it to the client; configure only its {@code KeyHash}. */
    public static String newKey() {
        byte[] bytes = new byte[BYTES];
        RANDOM.nextBytes(bytes);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
