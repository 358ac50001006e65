package dev.detour.auth;

import dev.detour.filter.RequestHeaders;

/**
 * Reads the key a caller presents: {@code Authorization: Bearer <key>} (scheme in any case), else
 * {@code x-api-key}. The OpenAI SDKs send the first form, the Anthropic SDKs the second.
 */
final class PresentedKey {

    static final String AUTHORIZATION = "authorization";
    static final String X_API_KEY = "x-api-key";
    private static final String BEARER = "bearer";

    private PresentedKey() {
    }

    /**
     * Returns the presented key, or {@code null} when there is none (no header, another scheme, or a blank
     * value). A bearer key wins over {@code x-api-key} when both are sent.
     */
    static String from(RequestHeaders headers) {
        String authorization = headers.get(AUTHORIZATION);
        if (authorization != null) {
            String key = bearer(authorization);
            if (key != null) {
                return key;
            }
        }
        String apiKey = headers.get(X_API_KEY);
        if (apiKey == null) {
            return null;
        }
        String key = apiKey.strip();
        return key.isEmpty() ? null : key;
    }

    private static String bearer(String value) {
        int start = 0;
        int end = value.length();
        while (start < end && value.charAt(start) == ' ') {
            start++;
        }
        if (end - start <= BEARER.length() || !value.regionMatches(true, start, BEARER, 0, BEARER.length())
            || !isSpace(value.charAt(start + BEARER.length()))) {
            return null;
        }
        String key = value.substring(start + BEARER.length()).strip();
        return key.isEmpty() ? null : key;
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t';
    }
}
