package dev.detour.provider.gemini;

import dev.detour.api.UsageScanner;
import static dev.detour.provider.gemini.GeminiFixtures.assertJsonEquals;
import static dev.detour.provider.gemini.GeminiFixtures.assertSseEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.detour.api.UsageScanner;
import dev.detour.provider.ResponseTranslator;
import dev.detour.provider.StreamFailure;
import dev.detour.provider.UpstreamVerdict;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class GenerateTranslatorTest {

    @ParameterizedTest
    @ValueSource(strings = {"chat-text", "chat-tool-call", "chat-max-tokens", "chat-safety", "chat-blocked-prompt",
                            "completion-text"})
    void translatesAnswerLikeGoldenFixture(String name) throws Exception {
        ResponseTranslator translator = translator(name.startsWith("chat") ? GenerateTranslator.Mode.CHAT
                                                   : GenerateTranslator.Mode.TEXT, false);

        byte[] out = translator.translateBody(GeminiFixtures.bytes("responses/" + name + ".gemini.json"));

        assertJsonEquals(GeminiFixtures.bytes("responses/" + name + ".openai.json"), out, name);
    }

    @ParameterizedTest
    @CsvSource({"chat-text, chat-text, CHAT, false",
                "chat-text, chat-text-usage, CHAT, true",
                "chat-tool-call, chat-tool-call, CHAT, false",
                "chat-blocked, chat-blocked, CHAT, false",
                "completion-text, completion-text, TEXT, true"})
    void translatesStreamLikeGoldenFixture(String input, String expected, GenerateTranslator.Mode mode,
                                           boolean includeUsage) throws Exception {
        byte[] upstream = GeminiFixtures.bytes("streams/" + input + ".gemini.sse");

        String out = feed(translator(mode, includeUsage), upstream, new int[0]);

        assertSseEquals(GeminiFixtures.text("streams/" + expected + ".openai.sse"), out, expected);
    }

    @ParameterizedTest
    @CsvSource({"chat-text, CHAT, true", "chat-tool-call, CHAT, false", "completion-text, TEXT, true"})
    void translatesStreamIdenticallyWhereverTheBytesSplit(String input, GenerateTranslator.Mode mode,
                                                          boolean includeUsage) throws Exception {
        byte[] upstream = GeminiFixtures.bytes("streams/" + input + ".gemini.sse");
        String whole = feed(translator(mode, includeUsage), upstream, new int[0]);

        for (int cut = 1; cut < upstream.length; cut++) {
            String split = feed(translator(mode, includeUsage), upstream, new int[] {cut});

            assertEquals(whole, split, "split at byte " + cut);
        }
        assertEquals(whole, feed(translator(mode, includeUsage), upstream, everyByte(upstream.length)),
                     "one byte at a time");
        Random random = new Random(42);
        for (int round = 0; round < 50; round++) {
            int[] cuts = random.ints(5, 1, upstream.length).sorted().distinct().toArray();

            assertEquals(whole, feed(translator(mode, includeUsage), upstream, cuts), "random cuts, round " + round);
        }
    }

    @Test
    void failsStreamThatEndsWithoutFinishReason() throws Exception {
        ResponseTranslator translator = translator(GenerateTranslator.Mode.CHAT, true);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        translator.translateStream(ByteBuffer.wrap(GeminiFixtures.bytes("streams/chat-truncated.gemini.sse")),
                                   out::write);

        StreamFailure failure = assertThrows(StreamFailure.class, () -> translator.endStream(out::write));

        assertEquals(UpstreamVerdict.Kind.SERVER_ERROR, failure.verdict().kind());
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("data: "), "content before the cut was relayed");
        assertFalse(out.toString(StandardCharsets.UTF_8).contains("[DONE]"), "no [DONE] for a cut stream");
    }

    @Test
    void failsStreamWithErrorEventClassified() {
        ResponseTranslator translator = translator(GenerateTranslator.Mode.CHAT, false);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] upstream = GeminiFixtures.bytes("streams/chat-error.gemini.sse");

        StreamFailure failure = assertThrows(StreamFailure.class,
                                             () -> translator.translateStream(ByteBuffer.wrap(upstream), out::write));

        assertEquals(UpstreamVerdict.Kind.OVERLOADED, failure.verdict().kind());
        assertTrue(failure.clientMessage().contains("The model is overloaded"), failure.clientMessage());
        assertEquals(1, GeminiFixtures.events(out.toString(StandardCharsets.UTF_8)).size(),
                     "the text before the error was translated");
    }

    @Test
    void writesNothingUntilAnEventCompletes() throws Exception {
        ResponseTranslator translator = translator(GenerateTranslator.Mode.CHAT, false);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] upstream = GeminiFixtures.bytes("streams/chat-text.gemini.sse");
        int firstEventEnd = indexOf(upstream, "\r\n\r\n") + 4;
        int secondEventEnd = indexOf(upstream, firstEventEnd, "\r\n\r\n") + 4;

        // Up to the second event's data line and its line end, without the blank line that dispatches it.
        translator.translateStream(ByteBuffer.wrap(upstream, 0, secondEventEnd - 2), out::write);

        assertEquals(0, out.size(), "the thought-only event and the undispatched one produce nothing");
    }

    @Test
    void rejectsAnswerThatIsNotJson() {
        ResponseTranslator translator = translator(GenerateTranslator.Mode.CHAT, false);

        assertThrows(ResponseTranslator.TranslationException.class,
                     () -> translator.translateBody("<html>".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void rejectsAnswerWithoutCandidatesOrBlockReason() {
        ResponseTranslator translator = translator(GenerateTranslator.Mode.CHAT, false);

        assertThrows(ResponseTranslator.TranslationException.class,
                     () -> translator.translateBody("{\"usageMetadata\":{}}".getBytes(StandardCharsets.UTF_8)));
    }

    @ParameterizedTest
    @CsvSource({"STOP, false, stop", "STOP, true, tool_calls", "MAX_TOKENS, false, length",
                "MAX_TOKENS, true, length", "SAFETY, false, content_filter", "RECITATION, false, content_filter",
                "BLOCKLIST, false, content_filter", "PROHIBITED_CONTENT, false, content_filter",
                "SPII, false, content_filter", "IMAGE_SAFETY, false, content_filter",
                "MALFORMED_FUNCTION_CALL, false, stop", "OTHER, false, stop", "LANGUAGE, false, stop",
                "SOMETHING_NEW, true, tool_calls"})
    void mapsFinishReason(String gemini, boolean functionCalls, String openai) {
        assertEquals(openai, GenerateTranslator.finishReason(gemini, functionCalls));
    }

    @Test
    void translatesEmbeddingsAsFloatsOrBase64() throws Exception {
        byte[] upstream = GeminiFixtures.bytes("responses/embed-float.gemini.json");

        byte[] floats = new EmbedTranslator("embed", 2, false).translateBody(upstream);
        byte[] base64 = new EmbedTranslator("embed", 2, true).translateBody(upstream);

        assertJsonEquals(GeminiFixtures.bytes("responses/embed-float.openai.json"), floats, "float");
        assertJsonEquals(GeminiFixtures.bytes("responses/embed-base64.openai.json"), base64, "base64");
    }

    @Test
    void rejectsEmbeddingsAnswerWithWrongCount() {
        byte[] upstream = GeminiFixtures.bytes("responses/embed-float.gemini.json");

        assertThrows(ResponseTranslator.TranslationException.class,
                     () -> new EmbedTranslator("embed", 3, false).translateBody(upstream));
    }

    @Test
    void reportsStreamUsageToAClientThatDidNotAskWithoutShowingIt() throws Exception {
        UsageScanner usage = new UsageScanner();
        GenerateTranslator translator = new GenerateTranslator(GenerateTranslator.Mode.CHAT, "flash", "req_test",
                                                               1_763_700_000L, false, GeminiFixtures.CLOCK, usage);

        String out = feed(translator, GeminiFixtures.bytes("streams/chat-text.gemini.sse"), new int[] {40});

        assertFalse(out.contains("\"usage\""), out);
        assertUsage(usage, 85, 12, 97, 0);
    }

    @Test
    void reportsStreamUsageAndShowsItToAClientThatAsked() throws Exception {
        UsageScanner usage = new UsageScanner();
        GenerateTranslator translator = new GenerateTranslator(GenerateTranslator.Mode.TEXT, "flash", "req_test",
                                                               1_763_700_000L, true, GeminiFixtures.CLOCK, usage);

        String out = feed(translator, GeminiFixtures.bytes("streams/completion-text.gemini.sse"), new int[0]);

        assertTrue(out.contains("\"choices\":[],\"usage\":{\"prompt_tokens\":3,"), out);
        assertUsage(usage, 3, 2, 5, 0);
    }

    @Test
    void reportsTheUsageOfAnAnswerWithItsCachedTokens() throws Exception {
        UsageScanner usage = new UsageScanner();
        GenerateTranslator translator = new GenerateTranslator(GenerateTranslator.Mode.CHAT, "flash", "req_test",
                                                               1_763_700_000L, false, GeminiFixtures.CLOCK, usage);

        translator.translateBody(GeminiFixtures.bytes("responses/chat-text.gemini.json"));

        assertUsage(usage, 85, 18, 103, 40);
    }

    @Test
    void reportsNoUsageForAStreamThatBreaksOff() throws Exception {
        UsageScanner usage = new UsageScanner();
        GenerateTranslator translator = new GenerateTranslator(GenerateTranslator.Mode.CHAT, "flash", "req_test",
                                                               1_763_700_000L, false, GeminiFixtures.CLOCK, usage);

        assertThrows(StreamFailure.class,
                     () -> feed(translator, GeminiFixtures.bytes("streams/chat-truncated.gemini.sse"), new int[0]));

        assertFalse(usage.found());
    }

    @Test
    void reportsEmbeddingUsageOnlyWhenGeminiGivesIt() throws Exception {
        UsageScanner none = new UsageScanner();
        UsageScanner some = new UsageScanner();
        byte[] counted = ("{\"embeddings\": [{\"values\": [0.5]}], \"usageMetadata\": {\"promptTokenCount\": 7, "
                          + "\"totalTokenCount\": 7}}").getBytes(StandardCharsets.UTF_8);

        new EmbedTranslator("embed", 2, false, none).translateBody(GeminiFixtures.bytes("responses/embed-float.gemini.json"));
        new EmbedTranslator("embed", 1, false, some).translateBody(counted);

        assertFalse(none.found(), "no counts: nothing is made up");
        assertEquals(7, some.totalTokens());
        assertEquals(7, some.promptTokens());
    }

    private static void assertUsage(UsageScanner usage, long prompt, long completion, long total, long cached) {
        assertEquals(prompt, usage.promptTokens(), "prompt");
        assertEquals(completion, usage.completionTokens(), "completion");
        assertEquals(total, usage.totalTokens(), "total");
        assertEquals(cached, usage.cachedTokens(), "cached");
    }

    private static GenerateTranslator translator(GenerateTranslator.Mode mode, boolean includeUsage) {
        return new GenerateTranslator(mode, "flash", "req_test", 1_763_700_000L, includeUsage, GeminiFixtures.CLOCK);
    }

    /** Feeds {@code upstream} split at {@code cuts} (ascending), ends the stream, and returns the output. */
    private static String feed(ResponseTranslator translator, byte[] upstream, int[] cuts) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int from = 0;
        for (int cut : cuts) {
            // A fresh array per piece: the translator must not rely on bytes it was lent earlier.
            byte[] piece = Arrays.copyOfRange(upstream, from, cut);
            translator.translateStream(ByteBuffer.wrap(piece), out::write);
            Arrays.fill(piece, (byte) 0);
            from = cut;
        }
        translator.translateStream(ByteBuffer.wrap(upstream, from, upstream.length - from), out::write);
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

    private static int indexOf(byte[] bytes, String needle) {
        return indexOf(bytes, 0, needle);
    }

    private static int indexOf(byte[] bytes, int from, String needle) {
        byte[] n = needle.getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = from; i <= bytes.length - n.length; i++) {
            for (int j = 0; j < n.length; j++) {
                if (bytes[i + j] != n[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return fail("no " + needle);
    }
}
