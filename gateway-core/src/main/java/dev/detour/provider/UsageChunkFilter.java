package dev.detour.provider;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.detour.api.UsageScanner;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Relays an OpenAI event stream whose usage chunk Detour asked for on the client's behalf, so that the client
 * sees what it would have seen had Detour not asked: every event goes out as the same bytes, except the
 * usage-only chunk ({@code "choices": []} with a {@code usage}), which is read into a {@link UsageScanner}
 * instead, and the {@code "usage": null} member that {@code include_usage} adds to every other chunk, which is
 * cut out.
 *
 * <p>Events are cut at blank lines as they complete; only events that mention {@code usage} are parsed.
 * One per exchange; not thread-safe.
 */
public final class UsageChunkFilter implements ResponseTranslator {

    private static final JsonFactory JSON = new JsonFactory();
    private static final byte[] USAGE = "\"usage\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NULL = "null".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DATA = "data:".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_EVENT_BYTES = 16 * 1024 * 1024;

    private final UsageScanner usage;
    private byte[] pending = new byte[1024];
    private int length;
    /** The {@code "usage": null} member the last {@link #isUsageOnly} call found, as {@link #nullUsageMember}. */
    private long nullUsage = -1;

    /** Creates a filter that reads the usage chunk into {@code usage}. */
    public UsageChunkFilter(UsageScanner usage) {
        this.usage = usage;
    }

    /** Returns true: an answer that is not an event stream has no usage chunk to keep from the client. */
    @Override
    public boolean eventStreamsOnly() {
        return true;
    }

    @Override
    public byte[] translateBody(byte[] upstreamBody) {
        return upstreamBody; // only streams are filtered
    }

    @Override
    public void translateStream(ByteBuffer upstreamBytes, ByteSink out) throws TranslationException {
        int n = upstreamBytes.remaining();
        if (length + n > MAX_EVENT_BYTES) {
            throw new TranslationException("an event is larger than " + MAX_EVENT_BYTES + " bytes");
        }
        if (length + n > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(length + n, pending.length * 2));
        }
        upstreamBytes.get(upstreamBytes.position(), pending, length, n); // absolute: leaves the position as it was
        int scanFrom = Math.max(0, length - 3);
        length += n;
        int start = 0;
        for (int i = scanFrom; i < length; i++) {
            int end = eventEnd(i);
            if (end > 0) {
                emit(start, end, out);
                start = end;
                i = end - 1;
            }
        }
        if (start > 0) {
            System.arraycopy(pending, start, pending, 0, length - start);
            length -= start;
        }
    }

    @Override
    public void endStream(ByteSink out) {
        if (length > 0) {
            out.write(pending, 0, length); // a last event without its blank line goes out as the upstream sent it
            length = 0;
        }
    }

    /** Returns the index just past a blank line ending at {@code i} ({@code \n\n} or {@code \r\n\r\n}), or -1. */
    private int eventEnd(int i) {
        if (pending[i] != '\n') {
            return -1;
        }
        if (i >= 1 && pending[i - 1] == '\n') {
            return i + 1;
        }
        if (i >= 3 && pending[i - 1] == '\r' && pending[i - 2] == '\n' && pending[i - 3] == '\r') {
            return i + 1;
        }
        return -1;
    }

    private void emit(int start, int end, ByteSink out) {
        nullUsage = trailingNullUsage(start, end);
        if (nullUsage < 0 && mentionsUsage(start, end) && isUsageOnly(start, end)) {
            usage.scan(pending, start, end - start);
            return;
        }
        if (nullUsage >= 0) {
            int from = (int) (nullUsage >>> 32);
            int to = (int) nullUsage;
            out.write(pending, start, from - start);
            out.write(pending, to, end - to);
            return;
        }
        out.write(pending, start, end - start);
    }

    /**
     * Returns the bytes to cut to remove an object member {@code "usage": null} (name at {@code nameStart},
     * value ending at {@code valueEnd}) with one of its separating commas, so that the object stays valid JSON:
     * the comma before it, or for a first member the comma after it (and the spaces after that). Packed as {@code from << 32 | to} (indices
     * into {@code bytes}, {@code to} exclusive) so that the per-chunk path allocates nothing.
     */
    public static long nullUsageMember(byte[] bytes, int nameStart, int valueEnd, int limit) {
        int before = nameStart - 1;
        while (before >= 0 && isSpace(bytes[before])) {
            before--;
        }
        if (before >= 0 && bytes[before] == ',') {
            return (long) before << 32 | valueEnd;
        }
        int after = valueEnd;
        while (after < limit && isSpace(bytes[after])) {
            after++;
        }
        if (after == limit || bytes[after] != ',') {
            return (long) nameStart << 32 | valueEnd; // the only member
        }
        after++;
        while (after < limit && isSpace(bytes[after])) {
            after++;
        }
        return (long) nameStart << 32 | after;
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\t' || b == '\n' || b == '\r';
    }

    /**
     * Finds, without parsing, the {@code ,"usage":null} that OpenAI puts last in every chunk once asked for the
     * usage, as {@link #nullUsageMember}; or returns -1 when the event has another shape (which the parser then
     * reads). Only an event whose one {@code data:} line ends the event and ends with that member qualifies: the
     * comma before the name makes it a member of the object that the final brace closes, the top-level one.
     * Most of a stream's events take this path, so a chunk is relayed with a few byte comparisons.
     */
    private long trailingNullUsage(int start, int end) {
        int i = skipSpaceBack(end - 1, start);
        if (i < start || pending[i] != '}') {
            return -1;
        }
        int valueEnd = skipSpaceBack(i - 1, start) + 1;
        int at = valueEnd - NULL.length;
        if (!matches(at, start, NULL)) {
            return -1;
        }
        i = skipSpaceBack(at - 1, start);
        if (i < start || pending[i] != ':') {
            return -1;
        }
        int nameStart = skipSpaceBack(i - 1, start) + 1 - USAGE.length;
        if (!matches(nameStart, start, USAGE)) {
            return -1;
        }
        int comma = skipSpaceBack(nameStart - 1, start);
        if (comma < start || pending[comma] != ',') {
            return -1;
        }
        int lineStart = comma;
        while (lineStart > start && pending[lineStart - 1] != '\n') {
            lineStart--;
        }
        if (!matches(lineStart, start, DATA) || indexOf(start, lineStart, DATA) >= 0) {
            return -1;
        }
        return (long) comma << 32 | valueEnd;
    }

    private int skipSpaceBack(int i, int floor) {
        while (i >= floor && isSpace(pending[i])) {
            i--;
        }
        return i;
    }

    private boolean matches(int at, int floor, byte[] text) {
        if (at < floor) {
            return false;
        }
        for (int j = 0; j < text.length; j++) {
            if (pending[at + j] != text[j]) {
                return false;
            }
        }
        return true;
    }

    private boolean mentionsUsage(int start, int end) {
        outer:
        for (int i = start; i <= end - USAGE.length; i++) {
            for (int j = 0; j < USAGE.length; j++) {
                if (pending[i + j] != USAGE[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /**
     * Returns whether the event's data is a chunk with empty choices and a usage object; notes a top-level
     * {@code "usage": null} member in {@link #nullUsage}.
     */
    private boolean isUsageOnly(int start, int end) {
        int data = indexOf(start, end, DATA);
        if (data < 0) {
            return false;
        }
        int from = data + 5;
        try (JsonParser p = JSON.createParser(pending, from, end - from)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return false;
            }
            boolean emptyChoices = false;
            boolean hasUsage = false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                long nameAt = p.currentTokenLocation().getByteOffset();
                JsonToken v = p.nextToken();
                if ("choices".equals(name) && v == JsonToken.START_ARRAY) {
                    JsonToken element = p.nextToken();
                    emptyChoices = element == JsonToken.END_ARRAY;
                    while (element != JsonToken.END_ARRAY && element != null) {
                        p.skipChildren();
                        element = p.nextToken();
                    }
                } else if ("usage".equals(name)) {
                    hasUsage = v == JsonToken.START_OBJECT;
                    if (v == JsonToken.VALUE_NULL) {
                        // The parser counts offsets from its first byte, at index from.
                        nullUsage = nullUsageMember(pending, from + (int) nameAt,
                                                    from + (int) p.currentLocation().getByteOffset(), end);
                    }
                    p.skipChildren();
                } else {
                    p.skipChildren();
                }
            }
            return emptyChoices && hasUsage;
        } catch (IOException e) {
            nullUsage = -1;
            return false; // not JSON we understand: pass it on as it is
        }
    }

    private int indexOf(int start, int end, byte[] t) {
        outer:
        for (int i = start; i <= end - t.length; i++) {
            for (int j = 0; j < t.length; j++) {
                if (pending[i + j] != t[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
