package dev.detour.cache;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;

/**
 * Builds canonical JSON from a stream of tokens ({@link RequestCanonicalizer} drives it from a parser) and
 * writes it out with every object's members sorted by key, without a tree.
 *
 * <p>How members get sorted: the bytes are appended as they come to one buffer, cut into <em>segments</em>
 * (ranges of the buffer) that are linked into a list, the output order. Each object member is a chain of
 * segments ({@code "key":value}, with the segments of its own nested objects inside), and the commas between
 * members sit in segments of their own. When an object ends with its keys in order (strictly increasing),
 * nothing is done: the list is already in buffer order. Otherwise its members are sorted by key and their
 * chains relinked in that order, with the comma segments between them; of members with equal keys only the
 * last is linked in (a later duplicate wins, as in a Jackson tree). Relinking touches only the object's own
 * members, never their bytes, so the cost stays proportional to the body however deep unsorted objects nest.
 * {@link #writeTo} then walks the list, copying runs of adjacent segments out through a small staging buffer.
 *
 * <p>Strings are written exactly as Jackson's UTF-8 generator writes them by default (checked against it in
 * tests): {@code "} and {@code \} escaped, control characters as {@code \b \t \n \f \r} or &#92;u00XX,
 * every UTF-16 surrogate as a &#92;uXXXX escape, everything else as UTF-8.
 *
 * <p>Not thread-safe; reusable: {@link #claim()} before each body, {@link #release()} after. Holds the scratch
 * arrays of one thread (see {@link RequestCanonicalizer}).
 */
final class CanonicalWriter {

    private static final int INITIAL_BYTES = 8192;
    private static final int INITIAL_SEGMENTS = 256;
    private static final int INITIAL_MEMBERS = 64;
    /** Beyond these sizes the arrays of a big body are dropped after use rather than kept by the thread. */
    private static final int RETAINED_BYTES = 1 << 20;
    private static final int RETAINED_SEGMENTS = 1 << 15;
    private static final int RETAINED_MEMBERS = 1 << 12;

    private static final int STAGING_BYTES = 4096;
    private static final int STRING_CHUNK = 4096;
    private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);
    /** Per ASCII character: 0 written as is, -1 as &#92;u00XX, else the letter after the backslash. */
    private static final byte[] ESCAPES = new byte[128];
    private static final Comparator<Member> BY_KEY = (a, b) -> a.key.compareTo(b.key);

    static {
        Arrays.fill(ESCAPES, 0, 0x20, (byte) -1);
        ESCAPES['"'] = '"';
        ESCAPES['\\'] = '\\';
        ESCAPES['\b'] = 'b';
        ESCAPES['\t'] = 't';
        ESCAPES['\f'] = 'f';
        ESCAPES['\n'] = 'n';
        ESCAPES['\r'] = 'r';
    }

    private boolean busy;
    private byte[] buf = new byte[INITIAL_BYTES];
    private int len;

    // Segments, as parallel arrays: segment i is buf[start[i], end[i]) and is followed by next[i] (-1: last).
    private int[] segStart = new int[INITIAL_SEGMENTS];
    private int[] segEnd = new int[INITIAL_SEGMENTS];
    private int[] segNext = new int[INITIAL_SEGMENTS];
    private int segments;
    /** The segment being appended to; it ends at {@link #len}. */
    private int open;

    /** Members of the objects being written, innermost last (a stack shared by the nesting levels). */
    private Member[] members = new Member[INITIAL_MEMBERS];
    private int memberCount;

    private Frame[] frames = new Frame[16];
    private int depth;

    /** Digits of a number being normalised. */
    private byte[] digits = new byte[64];
    private final byte[] staging = new byte[STAGING_BYTES];

    /** Takes this writer for a new body; returns {@code false} when it is in use. */
    boolean claim() {
        if (busy) {
            return false;
        }
        busy = true;
        len = 0;
        segments = 0;
        memberCount = 0;
        depth = 0;
        open = newSegment();
        return true;
    }

    /** Returns the nesting depth: 0 outside the root, 1 inside the root object. */
    int depth() {
        return depth;
    }

    /** Returns a mark to {@link #rollBack} to: what has been written so far. Only between members. */
    long mark() {
        return (long) len << 32 | segments;
    }

    /** Forgets what was written since {@code mark}, which must have been taken at this depth. */
    void rollBack(long mark) {
        len = (int) (mark >>> 32);
        segments = (int) mark;
        open = segments - 1;
        segNext[open] = -1;
    }

    void startObject() {
        beforeValue();
        append('{');
        Frame f = push();
        f.object = true;
        f.count = 0;
        f.sorted = true;
        f.memberBase = memberCount;
    }

    /** Starts a member of the current object: writes its key ({@code text[offset, offset + length)}). */
    void field(String key, char[] text, int offset, int length) {
        Frame f = frames[depth - 1];
        if (f.count == 0) {
            f.before = open;
        } else {
            Member previous = members[memberCount - 1];
            previous.tail = open;
            cut();
            append(',');
            if (f.sorted && key.compareTo(previous.key) <= 0) {
                f.sorted = false;
            }
        }
        int head = cut();
        Member m = newMember();
        m.key = key;
        m.head = head;
        m.comma = f.count == 0 ? -1 : head - 1; // the segment holding the comma just appended
        f.count++;
        string(text, offset, length);
        append(':');
    }

    void endObject() {
        Frame f = frames[--depth];
        if (f.count > 0) {
            members[memberCount - 1].tail = open;
            int close = cut();
            if (!f.sorted) {
                relink(f, close);
            }
            memberCount = f.memberBase;
        }
        append('}');
    }

    void startArray() {
        beforeValue();
        append('[');
        Frame f = push();
        f.object = false;
        f.count = 0;
    }

    void endArray() {
        depth--;
        append(']');
    }

    /** Writes a string value. */
    void stringValue(char[] text, int offset, int length) {
        beforeValue();
        string(text, offset, length);
    }

    /** Writes {@code true}, {@code false} or {@code null}. */
    void literal(byte[] ascii) {
        beforeValue();
        ensure(ascii.length);
        System.arraycopy(ascii, 0, buf, len, ascii.length);
        len += ascii.length;
    }

    /** Writes a number already in canonical spelling (ASCII). */
    void numberValue(String canonical) {
        beforeValue();
        int n = canonical.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[len++] = (byte) canonical.charAt(i);
        }
    }

    /**
     * Writes a JSON number token (its text as the parser read it) by value, spelled as
     * {@link RequestCanonicalizer#number(java.math.BigDecimal)} would spell it; returns {@code false}, writing
     * nothing, when the exponent is too long to handle here (the caller then goes through {@code BigDecimal}).
     *
     * <p>The value is the digits (integer and fraction part, without leading and trailing zeros) times a power
     * of ten; from there the spelling is {@link java.math.BigDecimal#toString()}'s, or plain digits for an
     * integer of at most {@value RequestCanonicalizer#MAX_PLAIN_DIGITS} digits. No {@code BigDecimal}, no
     * {@code String}.
     */
    boolean number(char[] text, int offset, int length) {
        int end = offset + length;
        int i = offset;
        boolean negative = text[i] == '-';
        if (negative) {
            i++;
        }
        if (digits.length < length) {
            digits = new byte[Math.max(length, digits.length * 2)];
        }
        int n = 0;
        int fractionDigits = 0;
        for (; i < end && isDigit(text[i]); i++) {
            digits[n++] = (byte) text[i];
        }
        if (i < end && text[i] == '.') {
            for (i++; i < end && isDigit(text[i]); i++) {
                digits[n++] = (byte) text[i];
                fractionDigits++;
            }
        }
        long exponent = 0;
        if (i < end) { // 'e' or 'E', the parser checked
            i++;
            boolean negativeExponent = text[i] == '-';
            if (text[i] == '-' || text[i] == '+') {
                i++;
            }
            if (end - i > 9) {
                return false; // BigDecimal refuses exponents beyond an int: let it say so
            }
            for (; i < end; i++) {
                exponent = exponent * 10 + (text[i] - '0');
            }
            if (negativeExponent) {
                exponent = -exponent;
            }
        }
        int first = 0;
        while (first < n && digits[first] == '0') {
            first++;
        }
        beforeValue();
        if (first == n) {
            append('0'); // zero, whatever its sign or spelling
            return true;
        }
        int last = n;
        while (digits[last - 1] == '0') {
            last--;
        }
        // The value is digits[first, last) * 10^-scale.
        int precision = last - first;
        long scale = fractionDigits - exponent - (n - last);
        ensure(precision + 48); // the spellings below add a bounded number of characters to the digits
        if (negative) {
            append('-');
        }
        if (scale <= 0 && precision - scale <= RequestCanonicalizer.MAX_PLAIN_DIGITS) {
            appendDigits(first, last);
            for (long z = -scale; z > 0; z--) {
                append('0');
            }
            return true;
        }
        long adjusted = precision - 1 - scale;
        if (scale == 0) {
            appendDigits(first, last);
        } else if (scale > 0 && adjusted >= -6) {
            if (precision > scale) {
                appendDigits(first, last - (int) scale);
                append('.');
                appendDigits(last - (int) scale, last);
            } else {
                append('0');
                append('.');
                for (long z = scale - precision; z > 0; z--) {
                    append('0');
                }
                appendDigits(first, last);
            }
        } else {
            append(digits[first]);
            if (precision > 1) {
                append('.');
                appendDigits(first + 1, last);
            }
            append('E');
            if (adjusted > 0) {
                append('+');
            }
            appendLong(adjusted);
        }
        return true;
    }

    /** Writes the canonical JSON to {@code out}, in few calls. */
    void writeTo(OutputStream out) throws IOException {
        segEnd[open] = len;
        int staged = 0;
        int runStart = segStart[0];
        int runEnd = segEnd[0];
        for (int s = segNext[0]; ; s = segNext[s]) {
            if (s >= 0 && segStart[s] == runEnd) {
                runEnd = segEnd[s]; // adjacent in the buffer: one run
                continue;
            }
            int n = runEnd - runStart;
            if (staged + n > STAGING_BYTES) {
                out.write(staging, 0, staged);
                staged = 0;
            }
            if (n >= STAGING_BYTES) {
                out.write(buf, runStart, n);
            } else {
                System.arraycopy(buf, runStart, staging, staged, n);
                staged += n;
            }
            if (s < 0) {
                break;
            }
            runStart = segStart[s];
            runEnd = segEnd[s];
        }
        out.write(staging, 0, staged);
    }

    /** Gives this writer back; arrays a huge body grew are dropped rather than kept by the thread. */
    void release() {
        busy = false;
        if (buf.length > RETAINED_BYTES) {
            buf = new byte[INITIAL_BYTES];
        }
        if (segStart.length > RETAINED_SEGMENTS) {
            segStart = new int[INITIAL_SEGMENTS];
            segEnd = new int[INITIAL_SEGMENTS];
            segNext = new int[INITIAL_SEGMENTS];
        }
        if (members.length > RETAINED_MEMBERS) {
            members = new Member[INITIAL_MEMBERS];
        }
    }

    /** Sorts the current object's members and links them (and commas) between {@code f.before} and {@code close}. */
    private void relink(Frame f, int close) {
        int from = f.memberBase;
        int to = memberCount;
        int commas = from; // cursor over the members that brought a comma: any comma segment will do
        Arrays.sort(members, from, to, BY_KEY); // stable: equal keys keep their order, the last one wins
        int previous = f.before;
        boolean first = true;
        for (int i = from; i < to; i++) {
            Member m = members[i];
            if (i + 1 < to && m.key.equals(members[i + 1].key)) {
                continue;
            }
            if (!first) {
                while (members[commas].comma < 0) {
                    commas++;
                }
                int comma = members[commas++].comma;
                segNext[previous] = comma;
                previous = comma;
            }
            segNext[previous] = m.head;
            previous = m.tail;
            first = false;
        }
        segNext[previous] = close;
    }

    private void beforeValue() {
        if (depth > 0) {
            Frame f = frames[depth - 1];
            if (!f.object && f.count++ > 0) {
                append(',');
            }
        }
    }

    private void string(char[] text, int offset, int length) {
        append('"');
        int end = offset + length;
        for (int from = offset; from < end; from += STRING_CHUNK) {
            stringChunk(text, from, Math.min(end, from + STRING_CHUNK));
        }
        append('"');
    }

    /** Writes {@code text[from, to)}; a chunk at a time, so room is reserved for the chunk's worst case only. */
    private void stringChunk(char[] text, int from, int to) {
        ensure((to - from) * 6); // the longest spelling of one char is a six-byte escape
        byte[] b = buf;
        int p = len;
        for (int i = from; i < to; i++) {
            char c = text[i];
            if (c < 0x80) {
                byte escape = ESCAPES[c];
                if (escape == 0) {
                    b[p++] = (byte) c;
                } else if (escape > 0) {
                    b[p++] = '\\';
                    b[p++] = escape;
                } else {
                    p = unicodeEscape(b, p, c);
                }
            } else if (c < 0x800) {
                b[p++] = (byte) (0xC0 | c >> 6);
                b[p++] = (byte) (0x80 | c & 0x3F);
            } else if (Character.isSurrogate(c)) {
                p = unicodeEscape(b, p, c); // as Jackson's generator does, pairs included
            } else {
                b[p++] = (byte) (0xE0 | c >> 12);
                b[p++] = (byte) (0x80 | c >> 6 & 0x3F);
                b[p++] = (byte) (0x80 | c & 0x3F);
            }
        }
        len = p;
    }

    private static int unicodeEscape(byte[] b, int p, char c) {
        b[p++] = '\\';
        b[p++] = 'u';
        b[p++] = HEX[c >> 12];
        b[p++] = HEX[c >> 8 & 0xF];
        b[p++] = HEX[c >> 4 & 0xF];
        b[p++] = HEX[c & 0xF];
        return p;
    }

    private void appendDigits(int from, int to) {
        System.arraycopy(digits, from, buf, len, to - from);
        len += to - from;
    }

    private void appendLong(long v) {
        if (v < 0) {
            append('-');
            v = -v;
        }
        int start = len;
        do {
            buf[len++] = (byte) ('0' + v % 10);
            v /= 10;
        } while (v > 0);
        for (int a = start, z = len - 1; a < z; a++, z--) {
            byte t = buf[a];
            buf[a] = buf[z];
            buf[z] = t;
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private void append(int b) {
        ensure(1);
        buf[len++] = (byte) b;
    }

    private void ensure(int n) {
        if (len + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(len + n, buf.length * 2));
        }
    }

    /** Ends the open segment here and opens the next one after it; returns the new one. */
    private int cut() {
        segEnd[open] = len;
        int s = newSegment();
        segNext[open] = s;
        open = s;
        return s;
    }

    private int newSegment() {
        if (segments == segStart.length) {
            int n = segments * 2;
            segStart = Arrays.copyOf(segStart, n);
            segEnd = Arrays.copyOf(segEnd, n);
            segNext = Arrays.copyOf(segNext, n);
        }
        int s = segments++;
        segStart[s] = len;
        segEnd[s] = len;
        segNext[s] = -1;
        return s;
    }

    private Member newMember() {
        if (memberCount == members.length) {
            members = Arrays.copyOf(members, memberCount * 2);
        }
        Member m = members[memberCount];
        if (m == null) {
            m = new Member();
            members[memberCount] = m;
        }
        memberCount++;
        return m;
    }

    private Frame push() {
        if (depth == frames.length) {
            frames = Arrays.copyOf(frames, depth * 2);
        }
        Frame f = frames[depth];
        if (f == null) {
            f = new Frame();
            frames[depth] = f;
        }
        depth++;
        return f;
    }

    /** An object member being written: its key and the first and last segment of its chain. */
    private static final class Member {
        String key;
        int head;
        int tail;
        /** The segment holding the comma written before this member, or -1 for an object's first member. */
        int comma;
    }

    /** An object or array being written. */
    private static final class Frame {
        boolean object;
        /** Members or elements so far. */
        int count;
        /** Objects: whether the keys so far came strictly increasing. */
        boolean sorted;
        /** Objects: where this object's members start in the member stack. */
        int memberBase;
        /** Objects: the segment holding the opening brace, which the first member follows. */
        int before;
    }
}
