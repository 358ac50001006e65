package dev.detour.provider;

import java.util.regex.Pattern;

/**
 * Removes anything that looks like an API key, whole or masked, from provider messages before a client
 * sees them: a provider that rejects a key often quotes part of it ({@code sk-proj-****abcd}).
 */
public final class KeyRedaction {

    private static final Pattern KEY_LIKE = Pattern.compile(
            "(?i)\\b(?:sk|xai|gsk|csk|pplx|fw)[-_][A-Za-z0-9*._-]{4,}"
            + "|(?i)\\bbearer\\s+\\S+"
            + "|\\S*\\*{3,}\\S*"
            + "|\\b[A-Za-z0-9_-]{32,}\\b");

    private KeyRedaction() {
    }

    /** Returns {@code message} with key-like tokens replaced by {@code <redacted>}. */
    public static String redact(String message) {
        return KEY_LIKE.matcher(message).replaceAll("<redacted>");
    }
}
