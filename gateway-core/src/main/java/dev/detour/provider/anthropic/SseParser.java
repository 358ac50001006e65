package dev.detour.provider.anthropic;

import dev.detour.provider.ResponseTranslator.TranslationException;
import dev.detour.provider.StreamFailure;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An incremental Server-Sent Events parser (WHATWG "event stream interpretation", {@code providers.md} §1).
 *
 * <p>Bytes may arrive split anywhere: inside a UTF-8 sequence, between the {@code \r} and {@code \n} of a
 * line end, inside a field name. The parser works on bytes and decodes a line only once it is complete;
 * since {@code \r} and {@code \n} never occur inside a multi-byte UTF-8 sequence, a split character is simply
 * carried to the next call. Lines end with {@code \n}, {@code \r\n} or {@code \r}; comments ({@code :...})
 * are skipped; several {@code data} lines join with {@code \n}; a blank line dispatches the event.
 *
 * <p>One per stream; not thread-safe.
 */
final class SseParser {

    private static final String DEFAULT_EVENT = "message";
    private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

    private final int maxEventBytes;
    private byte[] line = new byte[256];
    private int lineLength;
    private byte[] data = new byte[512];
    private int dataLength;
    private boolean hasData;
    private String event;
    private boolean skipLf;
    private int bomChecked;

    /**
     * Creates a parser that rejects a line or an event's data longer than {@code maxEventBytes}: a stream that
     * never ends its lines must not grow memory without bound.
     */
    SseParser(int maxEventBytes) {
        this.maxEventBytes = maxEventBytes;
    }

    /** Consumes {@code bytes}, calling {@code listener} for every event completed by them. */
    void feed(ByteBuffer bytes, Listener listener) throws StreamFailure, TranslationException {
        while (bytes.hasRemaining()) {
            byte b = bytes.get();
            if (bomChecked < BOM.length) {
                if (b == BOM[bomChecked] && lineLength == bomChecked) {
                    // A byte order mark at the very start of the stream is not part of the first field name.
                    bomChecked++;
                    if (bomChecked < BOM.length) {
                        append(b);
                    } else {
                        lineLength = 0;
                    }
                    continue;
                }
                bomChecked = BOM.length;
            }
            if (skipLf) {
                skipLf = false;
                if (b == '\n') {
                    continue; // the second half of a \r\n
                }
            }
            if (b == '\r') {
                skipLf = true;
                endLine(listener);
            } else if (b == '\n') {
                endLine(listener);
            } else {
                append(b);
            }
        }
    }

    /** Returns whether a partial line or an undispatched event is buffered (a truncated stream discards it). */
    boolean hasPartialEvent() {
        return lineLength > 0 || hasData;
    }

    private void append(byte b) throws TranslationException {
        if (lineLength >= maxEventBytes) {
            throw new TranslationException("an SSE line longer than " + maxEventBytes + " bytes");
        }
        if (lineLength == line.length) {
            line = Arrays.copyOf(line, Math.min(maxEventBytes, lineLength * 2));
        }
        line[lineLength++] = b;
    }

    private void endLine(Listener listener) throws StreamFailure, TranslationException {
        int length = lineLength;
        lineLength = 0;
        if (length == 0) {
            dispatch(listener);
            return;
        }
        if (line[0] == ':') {
            return; // a comment, e.g. a keep-alive
        }
        int colon = -1;
        for (int i = 0; i < length; i++) {
            if (line[i] == ':') {
                colon = i;
                break;
            }
        }
        int nameEnd = colon < 0 ? length : colon;
        int valueStart = colon < 0 ? length : colon + 1;
        if (valueStart < length && line[valueStart] == ' ') {
            valueStart++; // exactly one space is stripped
        }
        if (is("data", nameEnd)) {
            appendData(valueStart, length);
        } else if (is("event", nameEnd)) {
            event = new String(line, valueStart, length - valueStart, StandardCharsets.UTF_8);
        }
        // id, retry and unknown fields mean nothing to a one-shot relay.
    }

    private boolean is(String field, int nameEnd) {
        if (nameEnd != field.length()) {
            return false;
        }
        for (int i = 0; i < nameEnd; i++) {
            if (line[i] != field.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private void appendData(int from, int to) throws TranslationException {
        int needed = dataLength + (hasData ? 1 : 0) + (to - from);
        if (needed > maxEventBytes) {
            throw new TranslationException("an SSE event with more than " + maxEventBytes + " bytes of data");
        }
        if (needed > data.length) {
            data = Arrays.copyOf(data, Math.max(needed, Math.min(maxEventBytes, data.length * 2)));
        }
        if (hasData) {
            data[dataLength++] = '\n';
        }
        System.arraycopy(line, from, data, dataLength, to - from);
        dataLength += to - from;
        hasData = true;
    }

    private void dispatch(Listener listener) throws StreamFailure, TranslationException {
        String type = event == null || event.isEmpty() ? DEFAULT_EVENT : event;
        boolean dispatch = hasData;
        int length = dataLength;
        event = null;
        hasData = false;
        dataLength = 0;
        if (dispatch) {
            listener.onEvent(type, data, length);
        }
    }

    /** Receives each dispatched event. */
    @FunctionalInterface
    interface Listener {
        /**
         * Handles one event.
         *
         * @param event the {@code event} field, or {@code message} when the event had none
         * @param data  the joined data lines; only the first {@code length} bytes are valid
         */
        void onEvent(String event, byte[] data, int length) throws StreamFailure, TranslationException;
    }
}
