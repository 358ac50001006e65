package dev.detour.provider.bedrock;

import dev.detour.provider.ResponseTranslator.TranslationException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * An incremental decoder of the binary AWS event stream framing ({@code application/vnd.amazon.eventstream}).
 *
 * <p>Each message is: total length (4 bytes, big-endian), headers length (4), CRC32 of those 8 bytes (4), the
 * headers, the payload, and a CRC32 of everything before it (4). Bytes may arrive split anywhere: {@link #append}
 * keeps them, {@link #next} returns each complete message once both CRCs check out.
 *
 * <p>Written here rather than taken from {@code software.amazon.eventstream:eventstream}: that library allocates a
 * 2 MiB buffer per decoder (per stream, here) and has not been released since 2019; its successor inside the AWS
 * SDK is not published on Maven Central. The buffer here starts small and grows only to the largest message
 * seen, which the specification bounds (128 KiB of headers, 16 MiB of payload).
 *
 * <p>One per stream; not thread-safe.
 */
final class EventStreamDecoder {

    /** Prelude (total length, headers length, prelude CRC) plus the trailing message CRC. */
    static final int OVERHEAD = 16;
    static final int MAX_HEADERS = 128 * 1024;
    static final int MAX_PAYLOAD = 16 * 1024 * 1024;
    private static final int SHRINK_ABOVE = 64 * 1024;

    private final CRC32 crc = new CRC32();
    private byte[] buf = new byte[1024];
    private int start;
    private int end;
    private int pendingTotal = -1; // total length of the message at start, once its prelude is verified

    /** Keeps all remaining bytes of {@code bytes}; consumes it. */
    void append(ByteBuffer bytes) {
        int n = bytes.remaining();
        if (n == 0) {
            return;
        }
        if (buf.length - end < n) {
            makeRoom(n);
        }
        bytes.get(buf, end, n);
        end += n;
    }

    /**
     * Returns the next complete message, or {@code null} when more bytes are needed.
     *
     * @throws TranslationException if the bytes are not a valid event stream (bad CRC, impossible lengths)
     */
    EventStreamMessage next() throws TranslationException {
        int available = end - start;
        if (pendingTotal < 0) {
            if (available < 12) {
                return null;
            }
            pendingTotal = verifyPrelude();
        }
        if (available < pendingTotal) {
            return null;
        }
        int total = pendingTotal;
        int headersLength = readInt(start + 4);
        crc.reset();
        crc.update(buf, start, total - 4);
        int expected = readInt(start + total - 4);
        if ((int) crc.getValue() != expected) {
            throw new TranslationException("event stream: message CRC mismatch");
        }
        int headersStart = start + 12;
        Map<String, String> headers = readHeaders(headersStart, headersStart + headersLength);
        int payloadStart = headersStart + headersLength;
        byte[] payload = Arrays.copyOfRange(buf, payloadStart, start + total - 4);
        start += total;
        pendingTotal = -1;
        if (start == end) {
            start = 0;
            end = 0;
            if (buf.length > SHRINK_ABOVE) {
                buf = new byte[1024]; // one large message must not pin its buffer for the rest of the stream
            }
        }
        return new EventStreamMessage(headers, payload);
    }

    /** Returns whether bytes of an unfinished message are held: at the end of a stream, a truncation. */
    boolean hasPartialMessage() {
        return end > start;
    }

    private int verifyPrelude() throws TranslationException {
        crc.reset();
        crc.update(buf, start, 8);
        if ((int) crc.getValue() != readInt(start + 8)) {
            throw new TranslationException("event stream: prelude CRC mismatch");
        }
        long total = readInt(start) & 0xFFFFFFFFL;
        long headersLength = readInt(start + 4) & 0xFFFFFFFFL;
        if (headersLength > MAX_HEADERS || total < OVERHEAD + headersLength
            || total - OVERHEAD - headersLength > MAX_PAYLOAD) {
            throw new TranslationException("event stream: impossible lengths (total " + total + ", headers "
                                           + headersLength + ")");
        }
        return (int) total;
    }

    /** Reads the headers in {@code [from, to)}, keeping string values; the message CRC already held. */
    private Map<String, String> readHeaders(int from, int to) throws TranslationException {
        Map<String, String> headers = new HashMap<>(8);
        int p = from;
        while (p < to) {
            int nameLength = buf[p] & 0xFF;
            p++;
            if (nameLength == 0 || p + nameLength + 1 > to) {
                throw new TranslationException("event stream: malformed header name");
            }
            String name = new String(buf, p, nameLength, StandardCharsets.UTF_8);
            p += nameLength;
            int type = buf[p] & 0xFF;
            p++;
            int valueLength;
            switch (type) {
                case 0: // boolean true
                case 1: // boolean false
                    valueLength = 0;
                    break;
                case 2: // byte
                    valueLength = 1;
                    break;
                case 3: // short
                    valueLength = 2;
                    break;
                case 4: // integer
                    valueLength = 4;
                    break;
                case 5: // long
                case 8: // timestamp (epoch milliseconds)
                    valueLength = 8;
                    break;
                case 6: // byte array
                case 7: // string
                    if (p + 2 > to) {
                        throw new TranslationException("event stream: malformed header '" + name + "'");
                    }
                    valueLength = ((buf[p] & 0xFF) << 8) | (buf[p + 1] & 0xFF);
                    p += 2;
                    break;
                case 9: // UUID
                    valueLength = 16;
                    break;
                default:
                    throw new TranslationException("event stream: header '" + name + "' has unknown type " + type);
            }
            if (p + valueLength > to) {
                throw new TranslationException("event stream: header '" + name + "' overruns the headers");
            }
            if (type == 7) {
                headers.put(name, new String(buf, p, valueLength, StandardCharsets.UTF_8));
            }
            p += valueLength;
        }
        return headers;
    }

    private void makeRoom(int n) {
        int held = end - start;
        if (buf.length - held >= n && start > 0 && held <= buf.length / 2) {
            System.arraycopy(buf, start, buf, 0, held);
        } else {
            // Grow to fit: at most one message plus one network chunk is ever held, both bounded.
            byte[] bigger = new byte[Math.max(buf.length * 2, held + n)];
            System.arraycopy(buf, start, bigger, 0, held);
            buf = bigger;
        }
        start = 0;
        end = held;
    }

    private int readInt(int at) {
        return ((buf[at] & 0xFF) << 24) | ((buf[at + 1] & 0xFF) << 16) | ((buf[at + 2] & 0xFF) << 8)
               | (buf[at + 3] & 0xFF);
    }
}
