package dev.detour.provider.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.provider.ResponseTranslator.TranslationException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class SseParserTest {

    @Test
    void dispatchesOnBlankLineWithEventName() throws Exception {
        List<String> events = parse("event: ping\ndata: {\"type\":\"ping\"}\n\n");

        assertEquals(List.of("ping|{\"type\":\"ping\"}"), events);
    }

    @Test
    void defaultsEventNameToMessage() throws Exception {
        assertEquals(List.of("message|x"), parse("data: x\n\n"));
    }

    @Test
    void acceptsCrLfAndCrLineEndings() throws Exception {
        List<String> expected = List.of("a|1", "b|2");

        assertEquals(expected, parse("event: a\r\ndata: 1\r\n\r\nevent: b\r\ndata: 2\r\n\r\n"));
        assertEquals(expected, parse("event: a\rdata: 1\r\revent: b\rdata: 2\r\r"));
        assertEquals(expected, parse("event: a\ndata: 1\r\n\revent: b\rdata: 2\n\n"));
    }

    @Test
    void joinsCrLfSplitAcrossChunks() throws Exception {
        SseParser parser = new SseParser(1024);
        List<String> events = new ArrayList<>();

        feed(parser, events, "data: a\r");
        feed(parser, events, "\ndata: b\r");
        feed(parser, events, "\n\r");
        feed(parser, events, "\n");

        assertEquals(List.of("message|a\nb"), events, "a split \\r\\n is one line end, not two");
    }

    @Test
    void joinsMultipleDataLinesWithNewline() throws Exception {
        assertEquals(List.of("message|{\n\"a\": 1\n}"), parse("data: {\ndata: \"a\": 1\ndata: }\n\n"));
    }

    @Test
    void skipsComments() throws Exception {
        assertEquals(List.of("e|x"), parse(": keep-alive\nevent: e\n: OPENROUTER PROCESSING\ndata: x\n\n: bye\n\n"));
    }

    @Test
    void stripsExactlyOneSpaceAfterColon() throws Exception {
        assertEquals(List.of("message|  two", "message|none"), parse("data:   two\n\ndata:none\n\n"));
    }

    @Test
    void treatsLineWithoutColonAsFieldWithEmptyValue() throws Exception {
        assertEquals(List.of("message|"), parse("data\n\n"));
    }

    @Test
    void dispatchesNothingForEventWithoutData() throws Exception {
        assertEquals(List.of("message|x"), parse("event: lonely\n\ndata: x\n\n"), "the event name is reset too");
    }

    @Test
    void ignoresIdRetryAndUnknownFields() throws Exception {
        assertEquals(List.of("message|x"), parse("id: 7\nretry: 100\nfoo: bar\ndata: x\n\n"));
    }

    @Test
    void ignoresLeadingByteOrderMark() throws Exception {
        assertEquals(List.of("e|x"), parse("\uFEFFevent: e\ndata: x\n\n"));
    }

    @Test
    void decodesUtf8SplitInsideACharacter() throws Exception {
        byte[] bytes = "data: é🌞\n\n".getBytes(StandardCharsets.UTF_8);
        for (int at = 1; at < bytes.length; at++) {
            SseParser parser = new SseParser(1024);
            List<String> events = new ArrayList<>();

            parser.feed(ByteBuffer.wrap(Arrays.copyOfRange(bytes, 0, at)), collect(events));
            parser.feed(ByteBuffer.wrap(Arrays.copyOfRange(bytes, at, bytes.length)), collect(events));

            assertEquals(List.of("message|é🌞"), events, "split at " + at);
        }
    }

    @Test
    void keepsTruncatedEventUndispatched() throws Exception {
        SseParser parser = new SseParser(1024);
        List<String> events = new ArrayList<>();

        feed(parser, events, "data: x\n");

        assertTrue(events.isEmpty());
        assertTrue(parser.hasPartialEvent());
        feed(parser, events, "\n");
        assertFalse(parser.hasPartialEvent());
    }

    @Test
    void rejectsLineLongerThanLimit() {
        SseParser parser = new SseParser(16);

        assertThrows(TranslationException.class, () -> parser.feed(utf8("data: 0123456789abcdef"), (e, d, l) -> { }));
    }

    @Test
    void rejectsEventDataLongerThanLimit() {
        SseParser parser = new SseParser(16);

        assertThrows(TranslationException.class,
                     () -> parser.feed(utf8("data: 0123456789\ndata: 0123456789\n"), (e, d, l) -> { }));
    }

    private static List<String> parse(String sse) throws Exception {
        SseParser parser = new SseParser(1024);
        List<String> events = new ArrayList<>();
        parser.feed(utf8(sse), collect(events));
        return events;
    }

    private static void feed(SseParser parser, List<String> events, String s) throws Exception {
        parser.feed(utf8(s), collect(events));
    }

    private static SseParser.Listener collect(List<String> events) {
        return (event, data, length) -> events.add(event + "|" + new String(data, 0, length, StandardCharsets.UTF_8));
    }

    private static ByteBuffer utf8(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }
}
