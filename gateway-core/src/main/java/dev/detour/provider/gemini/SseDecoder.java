package dev.detour.provider.gemini;

import dev.detour.provider.ResponseTranslator.TranslationException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * Splits a Server-Sent Events byte stream into the data of its events ({@code providers.md} §1).
 *
 * <p>Works on bytes: CR and LF never occur inside a UTF-8 multibyte sequence, so a chunk split inside a character
 * needs no care, and the JSON parser decodes the data. Lines may end in {@code \r\n}, {@code \n} or {@code \r},
 * including a {@code \r\n} split across chunks. Comments and fields other than {@code data} are ignored; data not
 * followed by a blank line when the stream ends is discarded, as the SSE rules say.
 *
 * <p>One per stream; not thread-safe.
 */
final class SseDecoder {

    /** Longest event accepted: a stream that never ends a line must not grow memory without bound. */
    private static final int MAX_EVENT_BYTES = 16 * 1024 * 1024;

    private byte[] line = new byte[512];
    private int lineLength;
    private byte[] data = new byte[1024];
    private int dataLength;
    private boolean hasData;
    private boolean afterCr;

    /**
     * Consumes {@code in} and adds the data of every event it completes to {@code events}.
     *
     * @throws TranslationException when an event exceeds the size limit
     */
    void feed(ByteBuffer in, List<byte[]> events) throws TranslationException {
        while (in.hasRemaining()) {
            byte b = in.get();
            if (afterCr) {
                afterCr = false;
                if (b == '\n') {
                    continue; // the second half of a \r\n
                }
            }
            if (b == '\r') {
                afterCr = true;
                endLine(events);
            } else if (b == '\n') {
                endLine(events);
            } else {
                if (lineLength == line.length) {
                    line = grow(line, lineLength + 1);
                }
                line[lineLength++] = b;
            }
        }
    }

    private void endLine(List<byte[]> events) throws TranslationException {
        int length = lineLength;
        lineLength = 0;
        if (length == 0) {
            dispatch(events);
            return;
        }
        if (line[0] == ':') {
            return; // a comment, e.g. a keep-alive
        }
        int colon = indexOf(line, length, (byte) ':');
        int nameEnd = colon < 0 ? length : colon;
        if (nameEnd != 4 || line[0] != 'd' || line[1] != 'a' || line[2] != 't' || line[3] != 'a') {
            return; // event, id, retry and unknown fields do not matter here
        }
        int start = colon < 0 ? length : colon + 1;
        if (start < length && line[start] == ' ') {
            start++; // exactly one space after the colon is part of the syntax
        }
        if (hasData) {
            append((byte) '\n');
        }
        hasData = true;
        for (int i = start; i < length; i++) {
            append(line[i]);
        }
    }

    private void dispatch(List<byte[]> events) {
        if (hasData && dataLength > 0) {
            events.add(Arrays.copyOf(data, dataLength));
        }
        hasData = false;
        dataLength = 0;
    }

    private void append(byte b) throws TranslationException {
        if (dataLength == data.length) {
            data = grow(data, dataLength + 1);
        }
        data[dataLength++] = b;
    }

    private static byte[] grow(byte[] buffer, int needed) throws TranslationException {
        if (needed > MAX_EVENT_BYTES) {
            throw new TranslationException("an SSE event exceeds " + MAX_EVENT_BYTES + " bytes");
        }
        return Arrays.copyOf(buffer, Math.min(MAX_EVENT_BYTES, Math.max(needed, buffer.length * 2)));
    }

    private static int indexOf(byte[] bytes, int length, byte b) {
        for (int i = 0; i < length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
