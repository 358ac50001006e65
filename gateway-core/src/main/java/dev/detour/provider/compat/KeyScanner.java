package dev.detour.provider.compat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Tells whether a JSON document has an object key out of a small set, in one pass over its bytes without
 * building anything: the cheap test that keeps bodies without a quirky field on the pass-through path.
 *
 * <p>A key is a string followed (after whitespace) by {@code :}, at any depth, so string values never match;
 * a key at another depth (a tool parameter named {@code seed}) is a false positive that only costs a parse.
 * Keys spelled with escapes ({@code "se\u0065d"}) are not recognised. Immutable and thread-safe.
 */
final class KeyScanner {

    private static final int OUTSIDE = 0;
    private static final int IN_STRING = 1;
    private static final int ESCAPE = 2;
    private static final int AFTER_STRING = 3;

    private final byte[][] keys;
    private final int longest;

    private KeyScanner(byte[][] keys) {
        this.keys = keys;
        int max = 0;
        for (byte[] k : keys) {
            max = Math.max(max, k.length);
        }
        this.longest = max;
    }

    /** Returns a scanner for {@code keys}. */
    static KeyScanner of(List<String> keys) {
        byte[][] bytes = new byte[keys.size()][];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = keys.get(i).getBytes(StandardCharsets.UTF_8);
        }
        return new KeyScanner(bytes);
    }

    /** Returns whether {@code json} has one of the keys; reads the stream to the first match or its end. */
    boolean matches(InputStream json) {
        byte[] chunk = new byte[8192];
        byte[] current = new byte[longest];
        int length = 0;
        boolean overflow = false;
        int state = OUTSIDE;
        try (InputStream in = json) {
            int n;
            while ((n = in.read(chunk)) > 0) {
                for (int i = 0; i < n; i++) {
                    byte b = chunk[i];
                    switch (state) {
                        case IN_STRING:
                            if (b == '"') {
                                state = AFTER_STRING;
                            } else if (b == '\\') {
                                state = ESCAPE;
                                overflow = true; // an escaped key is never one of ours
                            } else if (length < current.length) {
                                current[length++] = b;
                            } else {
                                overflow = true;
                            }
                            break;
                        case ESCAPE:
                            state = IN_STRING;
                            break;
                        case AFTER_STRING:
                            if (b == ' ' || b == '\t' || b == '\n' || b == '\r') {
                                break;
                            }
                            if (b == ':' && !overflow && isKey(current, length)) {
                                return true;
                            }
                            state = OUTSIDE;
                            if (b == '"') {
                                state = IN_STRING;
                                length = 0;
                                overflow = false;
                            }
                            break;
                        default:
                            if (b == '"') {
                                state = IN_STRING;
                                length = 0;
                                overflow = false;
                            }
                            break;
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return false;
    }

    private boolean isKey(byte[] candidate, int length) {
        for (byte[] key : keys) {
            if (key.length != length) {
                continue;
            }
            int i = 0;
            while (i < length && key[i] == candidate[i]) {
                i++;
            }
            if (i == length) {
                return true;
            }
        }
        return false;
    }
}
