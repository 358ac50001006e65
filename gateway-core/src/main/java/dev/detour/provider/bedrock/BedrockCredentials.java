package dev.detour.provider.bedrock;

import dev.detour.config.ApiKeyConfig;
import java.util.Objects;

/**
 * An AWS access key pair, with the session token of temporary credentials, read from one configured key
 * value {@code ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]}.
 *
 * @param accessKeyId     the access key id ({@code AKIA...} or {@code ASIA...}); not secret, it appears in the
 *                        {@code Authorization} header
 * @param secretAccessKey the secret that signs requests
 * @param sessionToken    the session token of temporary credentials, or {@code null}
 */
record BedrockCredentials(String accessKeyId, String secretAccessKey, String sessionToken) {

    BedrockCredentials {
        Objects.requireNonNull(accessKeyId, "accessKeyId");
        Objects.requireNonNull(secretAccessKey, "secretAccessKey");
    }

    /**
     * Reads {@code key}'s value.
     *
     * @throws IllegalArgumentException if the value does not have that shape; the message names the key's id,
     *                                  never its value
     */
    static BedrockCredentials of(ApiKeyConfig key) {
        String value = key.value().reveal();
        String[] parts = value.split(":", -1);
        if ((parts.length != 2 && parts.length != 3) || parts[0].isEmpty() || parts[1].isEmpty()
            || (parts.length == 3 && parts[2].isEmpty())) {
            throw new IllegalArgumentException("key '" + key.id() + "': not a Bedrock credential (expected: "
                                               + "ACCESS_KEY_ID:SECRET_ACCESS_KEY or "
                                               + "ACCESS_KEY_ID:SECRET_ACCESS_KEY:SESSION_TOKEN)");
        }
        return new BedrockCredentials(parts[0], parts[1], parts.length == 3 ? parts[2] : null);
    }

    /** Prints the access key id only: the secret and the token are credentials. */
    @Override
    public String toString() {
        return "BedrockCredentials[accessKeyId=" + accessKeyId + ", secretAccessKey=<redacted>, sessionToken="
               + (sessionToken == null ? "none" : "<redacted>") + "]";
    }
}
