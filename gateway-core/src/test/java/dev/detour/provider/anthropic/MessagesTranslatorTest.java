package dev.detour.provider.anthropic;

import dev.detour.api.UsageScanner;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.api.UsageScanner;
import dev.detour.provider.ResponseTranslator.TranslationException;
import dev.detour.provider.StreamFailure;
import dev.detour.provider.UpstreamVerdict;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class MessagesTranslatorTest {

    private static final Clock CLOCK = Clock.fixed(Instant.ofEpochSecond(1_763_700_000L), ZoneOffset.UTC);
    private static final String MESSAGE_START = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":"
            + "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-haiku-4-5\","
            + "\"content\":[],\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n";
    private static final String TEXT = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
            + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
            + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
            + "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n";

    static Stream<String> bodyGoldens() {
        return Fixtures.names("responses", ".anthropic.json");
    }

    static Stream<String> streamGoldens() {
        return Fixtures.names("streams", ".anthropic.sse");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bodyGoldens")
    void translatesBodyAsInGoldenFile(String name) throws Exception {
        MessagesTranslator translator = translator(name);

        byte[] out = translator.translateBody(Fixtures.bytes("responses/" + name + ".anthropic.json"));

        assertEquals(Fixtures.json("responses/" + name + ".openai.json"), Fixtures.tree(out));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("streamGoldens")
    void translatesStreamAsInGoldenFile(String name) throws Exception {
        byte[] upstream = Fixtures.bytes("streams/" + name + ".anthropic.sse");

        String out = feed(translator(name), upstream, new int[0]);

        Fixtures.assertSameEvents(Fixtures.text("streams/" + name + ".openai.sse"), out, name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("streamGoldens")
    void translatesStreamIdenticallyWhateverTheSplit(String name) throws Exception {
        byte[] upstream = Fixtures.bytes("streams/" + name + ".anthropic.sse");
        String whole = feed(translator(name), upstream, new int[0]);

        for (int at = 1; at < upstream.length; at++) {
            assertEquals(whole, feed(translator(name), upstream, new int[] {at}), name + " split at byte " + at);
        }
        Random random = new Random(42);
        for (int round = 0; round < 50; round++) {
            int[] cuts = random.ints(1 + random.nextInt(40), 1, upstream.length).sorted().distinct().toArray();
            assertEquals(whole, feed(translator(name), upstream, cuts), name + " split at " + Arrays.toString(cuts));
        }
        assertEquals(whole, feed(translator(name), upstream, everyByte(upstream.length)), name + " byte by byte");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"crlf", "cr"})
    void acceptsEveryLineEnding(String ending) throws Exception {
        String lf = Fixtures.text("streams/thinking-and-parallel-tools.anthropic.sse");
        byte[] other = lf.replace("\n", "crlf".equals(ending) ? "\r\n" : "\r").getBytes(StandardCharsets.UTF_8);
        String expected = feed(translator("chat"), lf.getBytes(StandardCharsets.UTF_8), new int[0]);

        assertEquals(expected, feed(translator("chat"), other, new int[0]));
        for (int at = 1; at < other.length; at++) {
            assertEquals(expected, feed(translator("chat"), other, new int[] {at}), ending + " split at byte " + at);
        }
    }

    @Test
    void holdsRoleChunkBackUntilTheAnswerStarts() throws Exception {
        MessagesTranslator translator = translator("chat");
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        translator.translateStream(utf8(MESSAGE_START + "event: ping\ndata: {\"type\":\"ping\"}\n\n"), out::write);

        assertEquals(0, out.size(), "nothing is committed to the client before content arrives");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "overloaded_error, OVERLOADED",
        "rate_limit_error, RATE_LIMITED",
        "api_error, SERVER_ERROR",
        "invalid_request_error, CLIENT_ERROR",
        "some_future_error, SERVER_ERROR",
    })
    void classifiesErrorEventBeforeAnyOutput(String type, UpstreamVerdict.Kind kind) {
        MessagesTranslator translator = translator("chat");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String error = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"" + type
                       + "\",\"message\":\"Overloaded\"}}\n\n";

        StreamFailure f = assertThrows(StreamFailure.class,
                                       () -> translator.translateStream(utf8(MESSAGE_START + error), out::write));

        assertEquals(kind, f.verdict().kind());
        assertEquals(type, f.verdict().detail());
        assertTrue(f.clientMessage().contains("Overloaded") && f.clientMessage().contains(type), f.clientMessage());
        assertEquals(0, out.size());
    }

    @Test
    void failsMidStreamAfterContentWasWritten() throws Exception {
        MessagesTranslator translator = translator("chat");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        translator.translateStream(utf8(MESSAGE_START + TEXT), out::write);

        StreamFailure f = assertThrows(StreamFailure.class, () -> translator.translateStream(utf8(
                "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
                + "\"message\":\"Overloaded\"}}\n\n"), out::write));

        assertEquals(UpstreamVerdict.Kind.OVERLOADED, f.verdict().kind());
        assertEquals(2, Fixtures.events(out.toString(StandardCharsets.UTF_8)).size(), "role and text chunks");
    }

    @Test
    void failsWhenStreamEndsWithoutMessageStop() throws Exception {
        MessagesTranslator translator = translator("chat");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        translator.translateStream(utf8(MESSAGE_START + TEXT), out::write);

        StreamFailure f = assertThrows(StreamFailure.class, () -> translator.endStream(out::write));

        assertEquals(UpstreamVerdict.Kind.SERVER_ERROR, f.verdict().kind());
        assertTrue(f.clientMessage().contains("message_stop"), f.clientMessage());
        assertTrue(!out.toString(StandardCharsets.UTF_8).contains("[DONE]"), "no [DONE] for a truncated answer");
    }

    @Test
    void failsWhenStreamIsEmpty() {
        MessagesTranslator translator = translator("chat");

        assertThrows(StreamFailure.class, () -> translator.endStream((bytes, offset, length) -> { }));
    }

    @Test
    void ignoresEventsAfterMessageStop() throws Exception {
        byte[] upstream = Fixtures.bytes("streams/text.anthropic.sse");
        String expected = feed(translator("chat"), upstream, new int[0]);
        byte[] extra = (new String(upstream, StandardCharsets.UTF_8) + TEXT).getBytes(StandardCharsets.UTF_8);

        assertEquals(expected, feed(translator("chat"), extra, new int[0]));
    }

    @Test
    void rejectsContentBeforeMessageStart() {
        MessagesTranslator translator = translator("chat");

        assertThrows(TranslationException.class, () -> translator.translateStream(utf8(TEXT), (bytes, offset, length) -> { }));
    }

    @Test
    void rejectsEventThatIsNotJson() {
        MessagesTranslator translator = translator("chat");

        assertThrows(TranslationException.class, () -> translator.translateStream(
                utf8(MESSAGE_START + "event: content_block_delta\ndata: {not json\n\n"), (bytes, offset, length) -> { }));
    }

    @Test
    void rejectsBodyThatIsNotAMessage() {
        MessagesTranslator translator = translator("chat");

        assertThrows(TranslationException.class, () -> translator.translateBody(utf8Bytes("<html></html>")));
        assertThrows(TranslationException.class, () -> translator.translateBody(utf8Bytes("{\"type\":\"message\"}")));
    }

    @Test
    void mapsEveryDocumentedStopReason() {
        assertEquals("stop", MessagesTranslator.finishReason("end_turn"));
        assertEquals("stop", MessagesTranslator.finishReason("stop_sequence"));
        assertEquals("stop", MessagesTranslator.finishReason("pause_turn"));
        assertEquals("stop", MessagesTranslator.finishReason(null));
        assertEquals("stop", MessagesTranslator.finishReason("something_new"));
        assertEquals("length", MessagesTranslator.finishReason("max_tokens"));
        assertEquals("length", MessagesTranslator.finishReason("model_context_window_exceeded"));
        assertEquals("tool_calls", MessagesTranslator.finishReason("tool_use"));
        assertEquals("content_filter", MessagesTranslator.finishReason("refusal"));
    }

    @Test
    void reportsStreamUsageToAClientThatDidNotAskWithoutShowingIt() throws Exception {
        UsageScanner usage = new UsageScanner();
        MessagesTranslator translator = new MessagesTranslator(OpenAiWriter.Shape.CHAT, false, CLOCK,
                                                               "claude-sonnet-4-5", usage);

        String out = feed(translator, Fixtures.bytes("streams/tool-use-with-usage.anthropic.sse"), new int[] {100});

        assertFalse(out.contains("\"usage\""), out);
        assertUsage(usage, 512, 57, 569, 100);
    }

    @Test
    void reportsStreamUsageAndShowsItToAClientThatAsked() throws Exception {
        UsageScanner usage = new UsageScanner();
        MessagesTranslator translator = new MessagesTranslator(OpenAiWriter.Shape.TEXT, true, CLOCK,
                                                               "claude-sonnet-4-5", usage);

        String out = feed(translator, Fixtures.bytes("streams/completion-text-with-usage.anthropic.sse"), new int[0]);

        assertTrue(out.contains("\"choices\":[],\"usage\":{\"prompt_tokens\":3,"), out);
        assertUsage(usage, 3, 2, 5, 0);
    }

    @Test
    void reportsTheUsageOfABodyWithItsCachedTokens() throws Exception {
        UsageScanner usage = new UsageScanner();
        MessagesTranslator translator = new MessagesTranslator(OpenAiWriter.Shape.CHAT, false, CLOCK,
                                                               "claude-opus-4-1", usage);

        translator.translateBody(Fixtures.bytes("responses/cache-and-thinking.anthropic.json"));

        assertUsage(usage, 2112, 40, 2152, 2000);
    }

    @Test
    void reportsNoUsageForAStreamThatBreaksOff() {
        UsageScanner usage = new UsageScanner();
        MessagesTranslator translator = new MessagesTranslator(OpenAiWriter.Shape.CHAT, false, CLOCK, "m", usage);

        assertThrows(StreamFailure.class, () -> feed(translator, utf8Bytes(MESSAGE_START + TEXT), new int[0]));

        assertFalse(usage.found(), "only a complete answer reports its usage");
    }

    private static void assertUsage(UsageScanner usage, long prompt, long completion, long total, long cached) {
        assertEquals(prompt, usage.promptTokens(), "prompt");
        assertEquals(completion, usage.completionTokens(), "completion");
        assertEquals(total, usage.totalTokens(), "total");
        assertEquals(cached, usage.cachedTokens(), "cached");
    }

    /** Returns the translator a fixture name implies: legacy completions, include_usage. */
    private static MessagesTranslator translator(String name) {
        OpenAiWriter.Shape shape = name.startsWith("completion-") ? OpenAiWriter.Shape.TEXT : OpenAiWriter.Shape.CHAT;
        return new MessagesTranslator(shape, name.endsWith("-with-usage"), CLOCK, "claude-sonnet-4-5");
    }

    /** Feeds {@code upstream} cut at {@code cuts}, ends the stream, and returns everything written. */
    private static String feed(MessagesTranslator translator, byte[] upstream, int[] cuts) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int from = 0;
        for (int cut : cuts) {
            translator.translateStream(ByteBuffer.wrap(Arrays.copyOfRange(upstream, from, cut)), out::write);
            from = cut;
        }
        translator.translateStream(ByteBuffer.wrap(Arrays.copyOfRange(upstream, from, upstream.length)), out::write);
        translator.endStream(out::write);
        return out.toString(StandardCharsets.UTF_8);
    }

    private static int[] everyByte(int length) {
        int[] cuts = new int[length - 1];
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = i + 1;
        }
        return cuts;
    }

    private static ByteBuffer utf8(String s) {
        return ByteBuffer.wrap(utf8Bytes(s));
    }

    private static byte[] utf8Bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
