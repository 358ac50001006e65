package dev.detour.api;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The token usage of one response: read from the bytes of an OpenAI answer as they pass
 * ({@code "prompt_tokens"}, {@code "completion_tokens"}, {@code "total_tokens"} and the
 * {@code "cached_tokens"} of {@code prompt_tokens_details}), without parsing or buffering it, or
 * {@linkplain #record reported} by a translator that parsed the provider's own answer.
 *
 * <p>Works on a JSON body and on an SSE stream alike, with bytes split anywhere; the last values seen
 * win (a stream's usage chunk comes last). Field names inside string values cannot match: there,
 * their quotes are escaped.
 *
 * <p>Cost: every name starts with a quote, so while no name is partly matched and no value is being
 * read, the loops look for the next quote only, one comparison per byte. At a quote, when the chunk holds
 * enough bytes, the name is compared in place: the byte after the quote rules out almost every quote at
 * once. Only a name cut by the end of a chunk goes through the byte-at-a-time matcher, which carries a
 * partial match over to the next chunk.
 *
 * <p>One per response; not thread-safe.
 */
public final class UsageScanner implements UsageSink {

    private static final byte[][] NAMES = {
        "\"prompt_tokens\"".getBytes(StandardCharsets.US_ASCII),
        "\"completion_tokens\"".getBytes(StandardCharsets.US_ASCII),
        "\"total_tokens\"".getBytes(StandardCharsets.US_ASCII),
        "\"cached_tokens\"".getBytes(StandardCharsets.US_ASCII),
    };
    private static final int PROMPT = 0;
    private static final int COMPLETION = 1;
    private static final int TOTAL = 2;
    private static final int CACHED = 3;
    /** {@link #nameAt}: no name starts at this quote. */
    private static final int NO_NAME = -1;
    /** {@link #nameAt}: the chunk ends before it can tell; the byte-at-a-time matcher decides. */
    private static final int UNDECIDED = -2;

    private final int[] matched = new int[NAMES.length];
    private final long[] values = {-1, -1, -1, -1};
    /** Which field's value is being read, or -1. */
    private int field = -1;
    /** 0: expecting ':', 1: expecting the first digit, 2: reading digits. */
    private int phase;
    private long number;
    /**
     * Whether no name is partly matched and no value is being read: then only a quote can start a
     * match, and the loops skip every other byte without running the matcher (most of an answer).
     */
    private boolean idle = true;

    /** Scans the remaining bytes of {@code bytes}; does not move its position. */
    public void scan(ByteBuffer bytes) {
        if (bytes.hasArray()) {
            scan(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining());
            return;
        }
        int i = bytes.position();
        int end = bytes.limit();
        while (i < end) {
            if (idle) {
                while (i < end && bytes.get(i) != '"') {
                    i++;
                }
                if (i == end) {
                    return;
                }
                int f = nameAt(bytes, i, end);
                if (f >= 0) {
                    startValue(f);
                    i += NAMES[f].length;
                    continue;
                }
                if (f == NO_NAME) {
                    i++;
                    continue;
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
            if (idle) {
                while (i < end && bytes[i] != '"') {
                    i++;
                }
                if (i == end) {
                    return;
                }
                int f = nameAt(bytes, i, end);
                if (f >= 0) {
                    startValue(f);
                    i += NAMES[f].length;
                    continue;
                }
                if (f == NO_NAME) {
                    i++;
                    continue;
                }
            }
            next(bytes[i++]);
        }
    }

    /**
     * Sets the usage a translator read from the provider's answer, replacing any figure seen so far; -1
     * marks a figure the provider did not report.
     */
    @Override
    public void record(long promptTokens, long completionTokens, long totalTokens, long cachedTokens) {
        values[PROMPT] = promptTokens;
        values[COMPLETION] = completionTokens;
        values[TOTAL] = totalTokens;
        values[CACHED] = cachedTokens;
    }

    /** Returns whether a total was seen (or prompt and completion, which make one). */
    public boolean found() {
        return values[TOTAL] >= 0 || values[PROMPT] >= 0 && values[COMPLETION] >= 0;
    }

    /** Returns the prompt tokens, or -1. */
    public long promptTokens() {
        return values[PROMPT];
    }

    /** Returns the completion tokens, or -1. */
    public long completionTokens() {
        return values[COMPLETION];
    }

    /** Returns the total tokens (prompt plus completion when no total was sent), or -1. */
    public long totalTokens() {
        if (values[TOTAL] >= 0) {
            return values[TOTAL];
        }
        return values[PROMPT] >= 0 && values[COMPLETION] >= 0 ? values[PROMPT] + values[COMPLETION] : -1;
    }

    /**
     * Returns the part of the prompt read from the provider's prompt cache
     * ({@code prompt_tokens_details.cached_tokens}), or -1 when the answer did not say.
     */
    public long cachedTokens() {
        return values[CACHED];
    }

    /**
     * Returns which name starts at the quote at {@code at}, {@link #NO_NAME}, or {@link #UNDECIDED} when the
     * chunk ends inside what could still be one.
     */
    private static int nameAt(byte[] bytes, int at, int end) {
        if (at + 1 == end) {
            return UNDECIDED;
        }
        switch (bytes[at + 1]) {
            case 'p':
                return compare(bytes, at, end, PROMPT);
            case 't':
                return compare(bytes, at, end, TOTAL);
            case 'c':
                int f = compare(bytes, at, end, COMPLETION);
                return f != NO_NAME ? f : compare(bytes, at, end, CACHED);
            default:
                return NO_NAME;
        }
    }

    /** Returns {@code f} if its name is at {@code at}, {@link #UNDECIDED} if it may be but the chunk ends first. */
    private static int compare(byte[] bytes, int at, int end, int f) {
        byte[] name = NAMES[f];
        int n = Math.min(name.length, end - at);
        for (int j = 2; j < n; j++) { // the quote and the first letter are known to match
            if (bytes[at + j] != name[j]) {
                return NO_NAME;
            }
        }
        return n == name.length ? f : UNDECIDED;
    }

    /** {@link #nameAt} for a buffer without an array (a direct buffer). */
    private static int nameAt(ByteBuffer bytes, int at, int end) {
        if (at + 1 == end) {
            return UNDECIDED;
        }
        switch (bytes.get(at + 1)) {
            case 'p':
                return compare(bytes, at, end, PROMPT);
            case 't':
                return compare(bytes, at, end, TOTAL);
            case 'c':
                int f = compare(bytes, at, end, COMPLETION);
                return f != NO_NAME ? f : compare(bytes, at, end, CACHED);
            default:
                return NO_NAME;
        }
    }

    private static int compare(ByteBuffer bytes, int at, int end, int f) {
        byte[] name = NAMES[f];
        int n = Math.min(name.length, end - at);
        for (int j = 2; j < n; j++) {
            if (bytes.get(at + j) != name[j]) {
                return NO_NAME;
            }
        }
        return n == name.length ? f : UNDECIDED;
    }

    /** Starts reading the value of field {@code f}, whose name was just matched whole. */
    private void startValue(int f) {
        field = f;
        phase = 0;
        idle = false;
    }

    private void next(byte b) {
        idle = false;
        if (field >= 0) {
            if (value(b)) {
                return;
            }
        }
        boolean partial = false;
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
            partial |= m != 0;
        }
        idle = field < 0 && !partial;
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
