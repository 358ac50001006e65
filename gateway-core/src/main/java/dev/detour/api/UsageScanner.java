package dev.detour.api;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Reads the token usage of an OpenAI answer ({@code "prompt_tokens"}, {@code "completion_tokens"},
 * {@code "total_tokens"}, and {@code "cached_tokens"} of {@code prompt_tokens_details}) from its bytes as they
 * pass, without parsing or buffering the answer.
 *
 * <p>Works on a JSON body and on an SSE stream alike, with bytes split anywhere; the last values seen
 * win (a stream's usage chunk comes last). Field names inside string values cannot match: there,
 * their quotes are escaped.
 *
 * <p>Cost: every name starts with a quote and one of three letters, so between a finished or failed match and
 * the next such pair the scanner only looks for quotes, one comparison per byte; answers are mostly text.
 *
 * <p>One per response; not thread-safe.
 */
public final class UsageScanner {

    private static final byte[][] NAMES = {
        "\"prompt_tokens\"".getBytes(StandardCharsets.US_ASCII),
        "\"completion_tokens\"".getBytes(StandardCharsets.US_ASCII),
        "\"total_tokens\"".getBytes(StandardCharsets.US_ASCII),
        "\"cached_tokens\"".getBytes(StandardCharsets.US_ASCII),
    };

    private final int[] matched = new int[NAMES.length];
    private final long[] values = {-1, -1, -1, -1};
    /** Which field's value is being read, or -1. */
    private int field = -1;
    /** 0: expecting ':', 1: expecting the first digit, 2: reading digits. */
    private int phase;
    private long number;
    /** Whether some name is partly matched: then every byte counts, not only quotes. */
    private boolean partial;

    /** Scans the remaining bytes of {@code bytes}; does not move its position. */
    public void scan(ByteBuffer bytes) {
        int i = bytes.position();
        int end = bytes.limit();
        while (i < end) {
            if (field < 0 && !partial) {
                while (i < end && bytes.get(i) != '"') {
                    i++;
                }
                if (i + 1 < end && !mayFollowQuote(bytes.get(i + 1))) {
                    i++; // a quote that starts no name: skip it too
                    continue;
                }
                if (i == end) {
                    return;
                }
            }
            next(bytes.get(i++));
        }
    }

    /** Scans {@code len} bytes of {@code bytes} from {@code offset}. */
    public void scan(byte[] bytes, int offset, int len) {
        int i = offset;
        int end = offset + len;
        while (i < end) {
            if (field < 0 && !partial) {
                // Nothing can start but at a quote followed by a name's first letter: skip to one.
                while (i < end && bytes[i] != '"') {
                    i++;
                }
                if (i + 1 < end && !mayFollowQuote(bytes[i + 1])) {
                    i++;
                    continue;
                }
                if (i == end) {
                    return;
                }
            }
            next(bytes[i++]);
        }
    }

    /** Returns whether {@code b} is the first letter of a name: {@code p}, {@code c} or {@code t}. */
    private static boolean mayFollowQuote(byte b) {
        return b == 'p' || b == 'c' || b == 't';
    }

    /** Returns whether a total was seen. */
    public boolean found() {
        return values[2] >= 0 || values[0] >= 0 && values[1] >= 0;
    }

    /** Returns the prompt tokens, or -1. */
    public long promptTokens() {
        return values[0];
    }

    /** Returns the completion tokens, or -1. */
    public long completionTokens() {
        return values[1];
    }

    /** Returns the prompt tokens read from cache ({@code prompt_tokens_details.cached_tokens}), or -1. */
    public long cachedTokens() {
        return values[3];
    }

    /** Returns the total tokens (prompt plus completion when no total was sent), or -1. */
    public long totalTokens() {
        if (values[2] >= 0) {
            return values[2];
        }
        return values[0] >= 0 && values[1] >= 0 ? values[0] + values[1] : -1;
    }

    private void next(byte b) {
        if (field >= 0 && value(b)) {
            return;
        }
        boolean any = false;
        for (int f = 0; f < NAMES.length; f++) {
            byte[] name = NAMES[f];
            int m = matched[f];
            if (b == name[m]) {
                m++;
                if (m == name.length) {
                    field = f;
                    phase = 0;
                    m = 0;
                }
            } else {
                m = b == name[0] ? 1 : 0;
            }
            matched[f] = m;
            any |= m > 0;
        }
        partial = any;
    }

    /** Reads {@code :} and the digits after a field name; returns whether {@code b} was consumed. */
    private boolean value(byte b) {
        boolean space = b == ' ' || b == '\t' || b == '\n' || b == '\r';
        switch (phase) {
            case 0:
                if (space) {
                    return true;
                }
                if (b == ':') {
                    phase = 1;
                    return true;
                }
                field = -1;
                return false;
            case 1:
                if (space) {
                    return true;
                }
                if (b >= '0' && b <= '9') {
                    number = b - '0';
                    phase = 2;
                    return true;
                }
                field = -1; // null or another type: not a count
                return false;
            default:
                if (b >= '0' && b <= '9' && number < Long.MAX_VALUE / 10) {
                    number = number * 10 + (b - '0');
                    return true;
                }
                values[field] = number;
                field = -1;
                return false;
        }
    }
}
