package dev.detour.provider.compat;

import java.nio.charset.StandardCharsets;

/**
 * Maps tool-call ids onto Mistral's format, exactly nine characters {@code [a-zA-Z0-9]}: a conversation that
 * began on another provider (after a fallback) carries ids like {@code call_9x2…} that Mistral refuses.
 *
 * <p>The mapping is a pure function of the id (FNV-1a 64, in base 62), so the assistant's {@code tool_calls[].id}
 * and the matching {@code tool} message's {@code tool_call_id} map alike, in this request and in the next ones;
 * ids already in Mistral's format are kept, so Mistral's own ids come back unchanged. Thread-safe.
 */
final class ToolCallIds {

    static final int LENGTH = 9;

    private static final char[] ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
            .toCharArray();
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private ToolCallIds() {
    }

    /** Returns whether {@code id} is already nine ASCII letters or digits. */
    static boolean isMistralId(String id) {
        if (id.length() != LENGTH) {
            return false;
        }
        for (int i = 0; i < LENGTH; i++) {
            char c = id.charAt(i);
            boolean ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** Returns {@code id} in Mistral's format: itself when it already is, otherwise its stable hash. */
    static String toMistral(String id) {
        if (isMistralId(id)) {
            return id;
        }
        long h = FNV_OFFSET;
        for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= FNV_PRIME;
        }
        char[] out = new char[LENGTH];
        for (int i = LENGTH - 1; i >= 0; i--) {
            out[i] = ALPHABET[(int) Long.remainderUnsigned(h, 62)];
            h = Long.divideUnsigned(h, 62);
        }
        return new String(out);
    }
}
