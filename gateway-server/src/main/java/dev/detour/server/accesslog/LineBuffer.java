package dev.detour.server.accesslog;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growable byte buffer that access-log lines are formatted into, as UTF-8. Not thread-safe: one per writer
 * thread (or per event loop for the Logback sink).
 *
 * <p>Values are copied byte by byte when every character is plain ASCII, the common case; anything else goes
 * through Jackson's {@link JsonStringEncoder} and {@link #utf8}, so that the bytes are exactly those of the
 * {@code StringBuilder} lines Detour wrote before, encoded the way {@link String#getBytes} encodes them.
 */
final class LineBuffer {

    private static final byte[] LONG_MIN = ascii(Long.toString(Long.MIN_VALUE));
    /** Above this, a buffer or escaping scratch grown for one huge value is let go once it is cleared. */
    private static final int RETAINED_BYTES = 256 * 1024;

    private final int initialCapacity;
    private byte[] bytes;
    private int size;
    /** Jackson escapes into chars; created on the first value that needs it. */
    private StringBuilder scratch;

    LineBuffer(int initialCapacity) {
        this.initialCapacity = initialCapacity;
        this.bytes = new byte[initialCapacity];
    }

    /** Returns {@code text}'s bytes; for constants that are plain ASCII. */
    static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    int size() {
        return size;
    }

    /** Empties the buffer, letting go of memory grown for an unusually long line. */
    void clear() {
        size = 0;
        if (bytes.length > RETAINED_BYTES) {
            bytes = new byte[initialCapacity];
        }
        if (scratch != null && scratch.capacity() > RETAINED_BYTES) {
            scratch = null;
        }
    }

    /** Drops everything from {@code from} on: a line whose formatting failed. */
    void truncate(int from) {
        size = from;
    }

    /** Moves the bytes from {@code from} on to the start, dropping those before. */
    void compact(int from) {
        System.arraycopy(bytes, from, bytes, 0, size - from);
        size -= from;
    }

    /** Writes bytes {@code from} (inclusive) to {@code to} (exclusive) with one {@code write} call. */
    void writeTo(OutputStream out, int from, int to) throws IOException {
        out.write(bytes, from, to - from);
    }

    LineBuffer put(byte b) {
        ensure(1);
        bytes[size++] = b;
        return this;
    }

    LineBuffer put(byte[] ascii) {
        ensure(ascii.length);
        System.arraycopy(ascii, 0, bytes, size, ascii.length);
        size += ascii.length;
        return this;
    }

    /** Appends {@code v} in decimal, as {@link StringBuilder#append(long)} does. */
    LineBuffer digits(long v) {
        if (v == Long.MIN_VALUE) {
            return put(LONG_MIN);
        }
        if (v < 0) {
            put((byte) '-');
            v = -v;
        }
        int n = decimalLength(v);
        ensure(n);
        int p = size + n;
        do {
            bytes[--p] = (byte) ('0' + v % 10);
            v /= 10;
        } while (v != 0);
        size += n;
        return this;
    }

    /**
     * Appends {@code text} if it is not empty and every character is printable ASCII other than space, {@code "},
     * {@code \} and {@code =}; returns whether it did (otherwise nothing is appended).
     */
    boolean putIfBare(String text) {
        int n = text.length();
        if (n == 0) {
            return false;
        }
        ensure(n);
        byte[] b = bytes;
        int p = size;
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c <= ' ' || c >= 0x7f || c == '"' || c == '\\' || c == '=') {
                return false;
            }
            b[p + i] = (byte) c;
        }
        size = p + n;
        return true;
    }

    /**
     * Appends {@code text} if every character is printable ASCII other than {@code "} and {@code \}, which is
     * when JSON escaping leaves it unchanged; returns whether it did (otherwise nothing is appended).
     */
    boolean putIfJsonSafe(String text) {
        int n = text.length();
        ensure(n);
        byte[] b = bytes;
        int p = size;
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c < ' ' || c >= 0x7f || c == '"' || c == '\\') {
                return false;
            }
            b[p + i] = (byte) c;
        }
        size = p + n;
        return true;
    }

    /** Appends {@code text} escaped as the inside of a JSON string, by Jackson's rules. */
    LineBuffer jsonEscaped(String text) {
        StringBuilder sb = scratch;
        if (sb == null) {
            sb = scratch = new StringBuilder(128);
        }
        sb.setLength(0);
        JsonStringEncoder.getInstance().quoteAsString(text, sb);
        return utf8(sb);
    }

    /**
     * Appends {@code text} in UTF-8, with {@code ?} for a lone surrogate: the bytes {@link String#getBytes}
     * gives for UTF-8.
     */
    LineBuffer utf8(CharSequence text) {
        int n = text.length();
        ensure(n * 3);
        byte[] b = bytes;
        int p = size;
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                b[p++] = (byte) c;
            } else if (c < 0x800) {
                b[p++] = (byte) (0xc0 | c >> 6);
                b[p++] = (byte) (0x80 | c & 0x3f);
            } else if (Character.isSurrogate(c)) {
                char low = i + 1 < n ? text.charAt(i + 1) : 0;
                if (Character.isHighSurrogate(c) && Character.isLowSurrogate(low)) {
                    int cp = Character.toCodePoint(c, low);
                    b[p++] = (byte) (0xf0 | cp >> 18);
                    b[p++] = (byte) (0x80 | cp >> 12 & 0x3f);
                    b[p++] = (byte) (0x80 | cp >> 6 & 0x3f);
                    b[p++] = (byte) (0x80 | cp & 0x3f);
                    i++;
                } else {
                    b[p++] = '?';
                }
            } else {
                b[p++] = (byte) (0xe0 | c >> 12);
                b[p++] = (byte) (0x80 | c >> 6 & 0x3f);
                b[p++] = (byte) (0x80 | c & 0x3f);
            }
        }
        size = p;
        return this;
    }

    /** Returns the content decoded from UTF-8. */
    @Override
    public String toString() {
        return new String(bytes, 0, size, StandardCharsets.UTF_8);
    }

    /** Returns the number of characters {@link Long#toString} gives for {@code v}. */
    static int stringLength(long v) {
        if (v == Long.MIN_VALUE) {
            return LONG_MIN.length;
        }
        return v < 0 ? 1 + decimalLength(-v) : decimalLength(v);
    }

    private static int decimalLength(long v) {
        long limit = 10;
        for (int n = 1; n < 19; n++) {
            if (v < limit) {
                return n;
            }
            limit *= 10;
        }
        return 19;
    }

    private void ensure(int more) {
        int needed = size + more;
        if (needed > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(needed, bytes.length * 2));
        }
    }
}
