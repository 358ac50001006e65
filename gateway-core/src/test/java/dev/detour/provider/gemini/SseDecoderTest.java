package dev.detour.provider.gemini;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.detour.provider.ResponseTranslator;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class SseDecoderTest {

    @Test
    void acceptsEveryLineEnding() throws Exception {
        String stream = "data: a\r\n\r\ndata: b\n\ndata: c\r\rdata: d\r\n\n";

        assertEquals(List.of("a", "b", "c", "d"), decode(stream));
    }

    @Test
    void joinsCrLfSplitAcrossChunks() throws Exception {
        SseDecoder decoder = new SseDecoder();
        List<byte[]> events = new ArrayList<>();

        decoder.feed(buffer("data: a\r"), events);
        decoder.feed(buffer("\n\r"), events);
        decoder.feed(buffer("\ndata: b\r\n\r\n"), events);

        assertEquals(List.of("a", "b"), texts(events));
    }

    @Test
    void joinsDataLinesAndIgnoresCommentsAndOtherFields() throws Exception {
        String stream = ": keep-alive\n\nevent: message\nid: 7\nretry: 100\ndata: {\"a\":\ndata:1}\nunknown\n\n";

        assertEquals(List.of("{\"a\":\n1}"), decode(stream));
    }

    @Test
    void stripsOnlyOneSpaceAfterTheColon() throws Exception {
        assertEquals(List.of("  x"), decode("data:   x\n\n"));
    }

    @Test
    void dispatchesNothingForEmptyData() throws Exception {
        assertEquals(List.of(), decode("data:\n\n\n\n"));
    }

    @Test
    void discardsEventNotFollowedByBlankLine() throws Exception {
        assertEquals(List.of("a"), decode("data: a\n\ndata: b\n"));
    }

    @Test
    void keepsMultibyteCharactersSplitAcrossChunks() throws Exception {
        byte[] bytes = "data: é😀\n\n".getBytes(StandardCharsets.UTF_8);
        SseDecoder decoder = new SseDecoder();
        List<byte[]> events = new ArrayList<>();

        for (byte b : bytes) {
            decoder.feed(ByteBuffer.wrap(new byte[] {b}), events);
        }

        assertEquals(List.of("é😀"), texts(events));
    }

    @Test
    void refusesAnEndlessLine() {
        SseDecoder decoder = new SseDecoder();
        byte[] chunk = new byte[1024 * 1024];
        Arrays.fill(chunk, (byte) 'x');

        assertThrows(ResponseTranslator.TranslationException.class, () -> {
            for (int i = 0; i < 17; i++) {
                decoder.feed(ByteBuffer.wrap(chunk), new ArrayList<>());
            }
        });
    }

    private static List<String> decode(String stream) throws Exception {
        List<byte[]> events = new ArrayList<>();
        new SseDecoder().feed(buffer(stream), events);
        return texts(events);
    }

    private static ByteBuffer buffer(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> texts(List<byte[]> events) {
        List<String> out = new ArrayList<>();
        for (byte[] e : events) {
            out.add(new String(e, StandardCharsets.UTF_8));
        }
        return out;
    }
}
