package dev.detour.provider.compat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.api.UsageScanner;
import dev.detour.provider.ByteSink;
import dev.detour.provider.ResponseTranslator;
import dev.detour.provider.StreamFailure;
import dev.detour.provider.UpstreamVerdict;
import dev.detour.provider.UsageChunkFilter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * A light translator for streams that already speak OpenAI's dialect: it re-frames the upstream's SSE events one
 * by one, turns an in-band {@code {"error":…}} event into a {@link StreamFailure}, checks that the stream ends
 * with {@code data: [DONE]}, and can skip chunks that OpenAI never sends (Azure's prompt-filter chunk with empty
 * {@code choices}). Every other event goes out with its payload bytes unchanged.
 *
 * <p>Why a translator at all: the server commits a stream to the client when the first bytes go out. Passed
 * through, a keep-alive comment ({@code : OPENROUTER PROCESSING}) would commit it, and an error event that
 * follows could no longer fail over. Here comments are held back until the first event has been written, so an
 * error before any content still lets the router try the next target; after that they are forwarded, so long
 * silences keep the client's connection alive.
 *
 * <p>When Detour asked for a stream's usage on behalf of a client that did not ({@code stream_options.include_usage},
 * see {@link dev.detour.provider.StreamUsage}), the usage-only chunk ({@code "choices": []} with a {@code usage})
 * is read into the request's {@link UsageScanner} and not relayed, and the {@code "usage": null} member that
 * {@code include_usage} adds to every other chunk is cut out: the client sees what it would have without the ask.
 *
 * <p>Each payload is inspected with Jackson's streaming parser (top-level {@code error}, {@code choices},
 * {@code usage}; everything else is skipped, nothing is built), never aggregated. One per exchange; not
 * thread-safe.
 */
public final class SseEventFilter implements ResponseTranslator {

    /** Largest event (or line) accepted before the stream is declared malformed. */
    static final int MAX_EVENT_BYTES = 16 * 1024 * 1024;

    private static final JsonFactory JSON = new JsonFactory();
    private static final ObjectMapper MAPPER = new ObjectMapper(JSON);
    private static final byte[] DATA_PREFIX = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] EVENT_END = {'\n', '\n'};
    private static final byte[] DONE = "[DONE]".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DONE_EVENT = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);

    private final EmptyChunks emptyChunks;
    private final ErrorClassifier errors;
    /** Where the usage-only chunk goes instead of the client, or {@code null} to relay it. */
    private final UsageScanner hiddenUsage;

    private byte[] line = new byte[256];
    private int lineLength;
    private boolean skipLineFeed;
    private byte[] data = new byte[1024];
    private int dataLength;
    private boolean hasData;
    private boolean errorEvent;
    private boolean wrote;
    private boolean done;

    private SseEventFilter(EmptyChunks emptyChunks, ErrorClassifier errors, UsageScanner hiddenUsage) {
        this.emptyChunks = Objects.requireNonNull(emptyChunks, "emptyChunks");
        this.errors = Objects.requireNonNull(errors, "errors");
        this.hiddenUsage = hiddenUsage;
    }

    /**
     * Returns a new filter for one exchange.
     *
     * @param emptyChunks whether chunks OpenAI never sends are skipped
     * @param errors      classifies the {@code error} object of an in-band error event
     */
    public static SseEventFilter newFilter(EmptyChunks emptyChunks, ErrorClassifier errors) {
        return new SseEventFilter(emptyChunks, errors, null);
    }

    /**
     * Returns a new filter for one exchange whose usage chunk, asked for by Detour and not by the client, is read
     * into {@code hiddenUsage} instead of being relayed.
     *
     * @param emptyChunks whether chunks OpenAI never sends are skipped
     * @param errors      classifies the {@code error} object of an in-band error event
     * @param hiddenUsage the request's usage, which the usage-only chunk goes to
     */
    public static SseEventFilter newFilter(EmptyChunks emptyChunks, ErrorClassifier errors,
                                           UsageScanner hiddenUsage) {
        return new SseEventFilter(emptyChunks, errors, Objects.requireNonNull(hiddenUsage, "hiddenUsage"));
    }

    /** Returns the body unchanged: the filter only has work to do on streams. */
    @Override
    public byte[] translateBody(byte[] upstreamBody) {
        return upstreamBody;
    }

    @Override
    public void translateStream(ByteBuffer upstreamBytes, ByteSink out) throws StreamFailure, TranslationException {
        while (upstreamBytes.hasRemaining()) {
            byte b = upstreamBytes.get();
            if (skipLineFeed) {
                skipLineFeed = false;
                if (b == '\n') {
                    continue; // the second half of a CRLF, possibly in the next network chunk
                }
            }
            if (b == '\r') {
                skipLineFeed = true;
                endLine(out);
            } else if (b == '\n') {
                endLine(out);
            } else {
                if (lineLength == line.length) {
                    line = grow(line, lineLength + 1);
                }
                line[lineLength++] = b;
            }
        }
    }

    @Override
    public void endStream(ByteSink out) throws StreamFailure {
        // An event not closed by a blank line before EOF is discarded, as the SSE spec says.
        if (!done) {
            throw new StreamFailure(UpstreamVerdict.of(UpstreamVerdict.Kind.SERVER_ERROR, "stream_truncated"),
                                    "The provider's stream ended without its final [DONE] event; the answer may be "
                                    + "incomplete.");
        }
    }

    private void endLine(ByteSink out) throws StreamFailure, TranslationException {
        int length = lineLength;
        lineLength = 0;
        if (length == 0) {
            dispatch(out);
            return;
        }
        if (line[0] == ':') {
            if (wrote && !done) {
                out.write(line, 0, length);
                out.write(EVENT_END);
            }
            return;
        }
        int colon = indexOf(line, length, (byte) ':');
        int nameEnd = colon < 0 ? length : colon;
        int valueStart = colon < 0 ? length : colon + 1;
        if (valueStart < length && line[valueStart] == ' ') {
            valueStart++;
        }
        if (equalsAscii(line, 0, nameEnd, "data")) {
            int valueLength = length - valueStart;
            int needed = dataLength + valueLength + 1;
            if (needed > MAX_EVENT_BYTES) {
                throw new TranslationException("an event is larger than " + MAX_EVENT_BYTES + " bytes");
            }
            if (needed > data.length) {
                data = grow(data, needed);
            }
            if (hasData) {
                data[dataLength++] = '\n';
            }
            System.arraycopy(line, valueStart, data, dataLength, valueLength);
            dataLength += valueLength;
            hasData = true;
        } else if (equalsAscii(line, 0, nameEnd, "event")) {
            errorEvent = equalsAscii(line, valueStart, length, "error");
        }
    }

    private void dispatch(ByteSink out) throws StreamFailure {
        boolean isError = errorEvent;
        errorEvent = false;
        if (!hasData) {
            return;
        }
        int length = dataLength;
        hasData = false;
        dataLength = 0;
        if (done) {
            return; // nothing follows [DONE] in OpenAI's dialect
        }
        if (length == DONE.length && Arrays.equals(data, 0, length, DONE, 0, DONE.length)) {
            done = true;
            wrote = true;
            out.write(DONE_EVENT);
            return;
        }
        Shape shape = inspect(data, length, isError);
        if (shape.error != null) {
            JsonNode message = shape.error.isTextual() ? shape.error : shape.error.get("message");
            String text = message == null || message.isNull() ? "no message" : message.asText();
            throw new StreamFailure(errors.classify(shape.error), "The provider reported an error in its stream: "
                                                                  + text);
        }
        if (emptyChunks == EmptyChunks.SKIP && shape.isFillerChunk()) {
            return;
        }
        if (hiddenUsage != null && shape.choices == 0 && shape.usage) {
            hiddenUsage.scan(data, 0, length);
            return;
        }
        if (hiddenUsage != null && shape.nullUsage >= 0) {
            int from = (int) (shape.nullUsage >>> 32);
            int to = (int) shape.nullUsage;
            System.arraycopy(data, to, data, from, length - to);
            length -= to - from;
        }
        wrote = true;
        out.write(DATA_PREFIX);
        int start = 0;
        for (int i = 0; i < length; i++) {
            if (data[i] == '\n') {
                out.write(data, start, i - start + 1);
                out.write(DATA_PREFIX);
                start = i + 1;
            }
        }
        out.write(data, start, length - start);
        out.write(EVENT_END);
    }

    /** Reads the few top-level fields that matter; an unparsable payload is opaque and passes as it is. */
    private static Shape inspect(byte[] payload, int length, boolean errorEvent) {
        Shape shape = new Shape();
        try (JsonParser p = JSON.createParser(payload, 0, length)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return shape;
            }
            if (errorEvent) {
                JsonNode whole = MAPPER.readTree(p);
                JsonNode error = whole.get("error");
                shape.error = error != null && !error.isNull() ? error : whole;
                return shape;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                long fieldAt = p.currentTokenLocation().getByteOffset();
                JsonToken value = p.nextToken();
                if ("error".equals(field) && value != JsonToken.VALUE_NULL) {
                    shape.error = MAPPER.readTree(p);
                    return shape;
                } else if ("choices".equals(field) && value == JsonToken.START_ARRAY) {
                    shape.choices = 0;
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        shape.choices++;
                        if (p.currentToken() == JsonToken.START_OBJECT) {
                            readChoice(p, shape);
                        } else {
                            p.skipChildren();
                        }
                    }
                } else if ("usage".equals(field)) {
                    shape.usage = value != JsonToken.VALUE_NULL;
                    if (value == JsonToken.VALUE_NULL) {
                        shape.nullUsage = UsageChunkFilter.nullUsageMember(
                                payload, (int) fieldAt, (int) p.currentLocation().getByteOffset(), length);
                    }
                    p.skipChildren();
                } else {
                    p.skipChildren();
                }
            }
        } catch (IOException e) {
            return new Shape();
        }
        return shape;
    }

    private static void readChoice(JsonParser p, Shape shape) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            if (value != JsonToken.VALUE_NULL
                && ("delta".equals(field) || "text".equals(field) || "message".equals(field))) {
                shape.content = true;
            } else if ("finish_reason".equals(field) && value != JsonToken.VALUE_NULL) {
                shape.content = true;
            }
            p.skipChildren();
        }
    }

    private static boolean equalsAscii(byte[] bytes, int from, int to, String name) {
        if (to - from != name.length()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (bytes[from + i] != name.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static int indexOf(byte[] bytes, int length, byte b) {
        for (int i = 0; i < length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private static byte[] grow(byte[] bytes, int needed) throws TranslationException {
        if (needed > MAX_EVENT_BYTES) {
            throw new TranslationException("a line is longer than " + MAX_EVENT_BYTES + " bytes");
        }
        return Arrays.copyOf(bytes, Math.min(MAX_EVENT_BYTES, Math.max(needed, bytes.length * 2)));
    }

    /** Which chunks are skipped. */
    public enum EmptyChunks {
        /** Every chunk is relayed. */
        KEEP,
        /**
         * Chunks OpenAI never sends are skipped: empty {@code choices} without {@code usage} (Azure's
         * prompt-filter results, which crash clients that read {@code choices[0]}), and choices that carry
         * neither a delta nor a finish reason (Azure's asynchronous content-filter annotations). OpenAI's own
         * usage chunk, empty {@code choices} with {@code usage}, is kept.
         */
        SKIP
    }

    /** Classifies the {@code error} object (or string) of an in-band error event. */
    @FunctionalInterface
    public interface ErrorClassifier {
        /** Returns how the failure counts for routing. */
        UpstreamVerdict classify(JsonNode error);
    }

    /** What one event's payload holds. */
    private static final class Shape {
        JsonNode error;
        int choices = -1;
        boolean content;
        boolean usage;
        /** A top-level {@code "usage": null} member, as {@link UsageChunkFilter#nullUsageMember}, or -1. */
        long nullUsage = -1;

        boolean isFillerChunk() {
            return choices == 0 && !usage || choices > 0 && !content && !usage;
        }
    }
}
