package dev.detour.provider.bedrock;

import dev.detour.api.UsageScanner;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.detour.api.UsageScanner;
import dev.detour.provider.ResponseTranslator.TranslationException;
import dev.detour.provider.StreamFailure;
import dev.detour.provider.UpstreamVerdict;
import dev.detour.provider.UpstreamVerdict.Kind;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConverseTranslatorTest {

    private static final String ID = "chatcmpl-test";
    private static final long CREATED = 1_763_700_000L;

    @ParameterizedTest
    @ValueSource(strings = {"text", "tool-use", "tool-only", "max-tokens", "guardrail", "reasoning-cache"})
    void translatesGoldenResponse(String name) throws Exception {
        ConverseTranslator translator = new ConverseTranslator(ID, CREATED, "claude", false);

        byte[] out = translator.translateBody(BedrockFixtures.bytes("responses/" + name + ".converse.json"));

        assertEquals(BedrockFixtures.json("responses/" + name + ".openai.json"), BedrockFixtures.tree(out),
                     new String(out, StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @ValueSource(strings = {"text", "tools", "guardrail", "max-tokens"})
    void translatesGoldenStream(String name) throws Exception {
        JsonNode fixture = BedrockFixtures.json("streams/" + name + ".events.json");
        byte[] stream = frames(fixture);

        String sse = translate(fixture.get("includeUsage").asBoolean(), stream, stream.length);

        List<String> expected = BedrockFixtures.events(new String(BedrockFixtures.bytes("streams/" + name + ".sse"),
                                                                  StandardCharsets.UTF_8));
        List<String> actual = BedrockFixtures.events(sse);
        assertEquals(expected.size(), actual.size(), sse);
        for (int i = 0; i < expected.size(); i++) {
            if (expected.get(i).equals("[DONE]")) {
                assertEquals("[DONE]", actual.get(i));
            } else {
                assertEquals(tree(expected.get(i)), tree(actual.get(i)), "event " + i);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"text", "tools"})
    void writesSameStreamWhateverTheSplit(String name) throws Exception {
        JsonNode fixture = BedrockFixtures.json("streams/" + name + ".events.json");
        boolean includeUsage = fixture.get("includeUsage").asBoolean();
        byte[] stream = frames(fixture);
        String whole = translate(includeUsage, stream, stream.length);

        assertEquals(whole, translate(includeUsage, stream, 1), "one byte at a time");
        for (int cut = 1; cut < stream.length; cut++) {
            assertEquals(whole, translateSplitAt(includeUsage, stream, cut), "split at byte " + cut);
        }
    }

    @Test
    void failsWithClassifiedVerdictOnExceptionFrame() throws Exception {
        ConverseTranslator translator = new ConverseTranslator(ID, CREATED, "claude", false);
        BedrockFixtures.Collector out = new BedrockFixtures.Collector();
        translator.translateStream(ByteBuffer.wrap(EventStreamFrames.concat(
                EventStreamFrames.event("messageStart", "{\"role\":\"assistant\"}"),
                EventStreamFrames.event("contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hi\"}}"))),
                out);
        byte[] exception = EventStreamFrames.exception("modelStreamErrorException",
                "{\"message\":\"The model stopped unexpectedly.\",\"originalStatusCode\":500}");

        StreamFailure f = assertThrows(StreamFailure.class,
                                       () -> translator.translateStream(ByteBuffer.wrap(exception), out));

        assertEquals(Kind.SERVER_ERROR, f.verdict().kind());
        assertEquals("modelStreamErrorException", f.verdict().detail());
        assertTrue(f.clientMessage().contains("The model stopped unexpectedly."), f.clientMessage());
    }

    @Test
    void writesNothingBeforeAnEarlyExceptionSoTheRouterCanFailOver() {
        ConverseTranslator translator = new ConverseTranslator(ID, CREATED, "claude", true);
        BedrockFixtures.Collector out = new BedrockFixtures.Collector();
        byte[] stream = EventStreamFrames.concat(
                EventStreamFrames.event("messageStart", "{\"role\":\"assistant\"}"),
                EventStreamFrames.exception("throttlingException", "{\"message\":\"Too many requests, please wait "
                                                                   + "before trying again.\"}"));

        StreamFailure f = assertThrows(StreamFailure.class,
                                       () -> translator.translateStream(ByteBuffer.wrap(stream), out));

        assertEquals(Kind.RATE_LIMITED, f.verdict().kind());
        assertEquals("", out.text(), "the role chunk waits for content");
    }

    @Test
    void classifiesStreamedExceptionsLikeHttpOnes() {
        assertEquals(Kind.OVERLOADED, failure("serviceUnavailableException", "{\"message\":\"busy\"}").kind());
        assertEquals(Kind.CONTEXT_TOO_LONG, failure("validationException",
                "{\"message\":\"Input is too long for requested model.\"}").kind());
        assertEquals(Kind.CLIENT_ERROR, failure("validationException", "{\"message\":\"bad\"}").kind());
        assertEquals(Kind.TIMEOUT, failure("modelTimeoutException", "{\"message\":\"slow\"}").kind());
        assertEquals(Kind.SERVER_ERROR, failure("internalServerException", "{}").kind());
    }

    @Test
    void failsWhenStreamEndsBeforeMessageStop() throws Exception {
        ConverseTranslator translator = new ConverseTranslator(ID, CREATED, "claude", false);
        BedrockFixtures.Collector out = new BedrockFixtures.Collector();
        translator.translateStream(ByteBuffer.wrap(EventStreamFrames.concat(
                EventStreamFrames.event("messageStart", "{\"role\":\"assistant\"}"),
                EventStreamFrames.event("contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hi\"}}"))),
                out);

        StreamFailure f = assertThrows(StreamFailure.class, () -> translator.endStream(out));

        assertEquals("stream_incomplete", f.verdict().detail());
        assertFalse(out.text().contains("[DONE]"), out.text());
    }

    @Test
    void failsWhenStreamBreaksInsideAFrame() throws Exception {
        ConverseTranslator translator = new ConverseTranslator(ID, CREATED, "claude", false);
        BedrockFixtures.Collector out = new BedrockFixtures.Collector();
        byte[] stop = EventStreamFrames.event("messageStop", "{\"stopReason\":\"end_turn\"}");
        translator.translateStream(ByteBuffer.wrap(stop), out);
        byte[] metadata = EventStreamFrames.event("metadata", "{\"usage\":{\"inputTokens\":1}}");
        translator.translateStream(ByteBuffer.wrap(metadata, 0, metadata.length - 3), out);

        StreamFailure f = assertThrows(StreamFailure.class, () -> translator.endStream(out));

        assertEquals("stream_truncated", f.verdict().detail());
    }

    @Test
    void rejectsCorruptFrames() {
        ConverseTranslator translator = new ConverseTranslator(ID, CREATED, "claude", false);
        byte[] frame = EventStreamFrames.event("messageStart", "{\"role\":\"assistant\"}");
        frame[frame.length - 6] ^= 0x20;

        assertThrows(TranslationException.class,
                     () -> translator.translateStream(ByteBuffer.wrap(frame), new BedrockFixtures.Collector()));
    }

    @Test
    void rejectsToolDeltaWithoutItsStart() {
        ConverseTranslator translator = new ConverseTranslator(ID, CREATED, "claude", false);
        byte[] frame = EventStreamFrames.event("contentBlockDelta",
                "{\"contentBlockIndex\":3,\"delta\":{\"toolUse\":{\"input\":\"{}\"}}}");

        assertThrows(TranslationException.class,
                     () -> translator.translateStream(ByteBuffer.wrap(frame), new BedrockFixtures.Collector()));
    }

    @Test
    void rejectsBodyThatIsNotConverse() {
        ConverseTranslator translator = new ConverseTranslator(ID, CREATED, "claude", false);

        assertThrows(TranslationException.class,
                     () -> translator.translateBody("<html>".getBytes(StandardCharsets.UTF_8)));
        assertThrows(TranslationException.class,
                     () -> translator.translateBody("{\"output\":{}}".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void mapsEveryDocumentedStopReason() {
        assertEquals("stop", ConverseTranslator.finishReason("end_turn"));
        assertEquals("stop", ConverseTranslator.finishReason("stop_sequence"));
        assertEquals("tool_calls", ConverseTranslator.finishReason("tool_use"));
        assertEquals("length", ConverseTranslator.finishReason("max_tokens"));
        assertEquals("length", ConverseTranslator.finishReason("model_context_window_exceeded"));
        assertEquals("content_filter", ConverseTranslator.finishReason("guardrail_intervened"));
        assertEquals("content_filter", ConverseTranslator.finishReason("content_filtered"));
        assertEquals("stop", ConverseTranslator.finishReason(null));
    }

    private static UpstreamVerdict failure(String type, String json) {
        ConverseTranslator translator = new ConverseTranslator(ID, CREATED, "claude", false);
        byte[] frame = EventStreamFrames.exception(type, json);
        return assertThrows(StreamFailure.class,
                            () -> translator.translateStream(ByteBuffer.wrap(frame), new BedrockFixtures.Collector()))
                .verdict();
    }

    /** Encodes a fixture's frames into one ConverseStream body. */
    static byte[] frames(JsonNode fixture) {
        List<byte[]> frames = new ArrayList<>();
        for (JsonNode f : fixture.get("frames")) {
            String payload = f.get("payload").toString();
            frames.add(f.has("event") ? EventStreamFrames.event(f.get("event").asText(), payload)
                                      : EventStreamFrames.exception(f.get("exception").asText(), payload));
        }
        return EventStreamFrames.concat(frames.toArray(new byte[0][]));
    }

    @Test
    void reportsStreamUsageToAClientThatDidNotAskWithoutShowingIt() throws Exception {
        UsageScanner usage = new UsageScanner();
        ConverseTranslator translator = new ConverseTranslator(ID, CREATED, "claude", false, usage);
        BedrockFixtures.Collector out = new BedrockFixtures.Collector();

        translator.translateStream(ByteBuffer.wrap(frames(BedrockFixtures.json("streams/tools.events.json"))), out);
        translator.endStream(out);

        assertFalse(out.text().contains("\"usage\""), out.text());
        assertUsage(usage, 120, 61, 181, 0);
    }

    @Test
    void reportsStreamUsageAndShowsItToAClientThatAsked() throws Exception {
        UsageScanner usage = new UsageScanner();
        ConverseTranslator translator = new ConverseTranslator(ID, CREATED, "claude", true, usage);
        BedrockFixtures.Collector out = new BedrockFixtures.Collector();

        translator.translateStream(ByteBuffer.wrap(frames(BedrockFixtures.json("streams/text.events.json"))), out);
        translator.endStream(out);

        assertTrue(out.text().contains("\"choices\":[],\"usage\":{\"prompt_tokens\":85,"), out.text());
        assertUsage(usage, 85, 4, 89, 0);
    }

    @Test
    void reportsTheUsageOfABodyWithItsCachedTokens() throws Exception {
        UsageScanner usage = new UsageScanner();
        ConverseTranslator translator = new ConverseTranslator(ID, CREATED, "claude", false, usage);

        translator.translateBody(BedrockFixtures.bytes("responses/reasoning-cache.converse.json"));

        assertUsage(usage, 1220, 7, 1227, 1000);
    }

    @Test
    void reportsNoUsageForAStreamThatBreaksOff() {
        UsageScanner usage = new UsageScanner();
        ConverseTranslator translator = new ConverseTranslator(ID, CREATED, "claude", false, usage);
        byte[] stream = frames(BedrockFixtures.json("streams/text.events.json"));

        assertThrows(StreamFailure.class, () -> {
            translator.translateStream(ByteBuffer.wrap(stream, 0, stream.length - 3).slice(),
                                       new BedrockFixtures.Collector());
            translator.endStream(new BedrockFixtures.Collector());
        });

        assertFalse(usage.found());
    }

    private static void assertUsage(UsageScanner usage, long prompt, long completion, long total, long cached) {
        assertEquals(prompt, usage.promptTokens(), "prompt");
        assertEquals(completion, usage.completionTokens(), "completion");
        assertEquals(total, usage.totalTokens(), "total");
        assertEquals(cached, usage.cachedTokens(), "cached");
    }

    private static String translate(boolean includeUsage, byte[] stream, int chunk) throws Exception {
        ConverseTranslator translator = new ConverseTranslator(ID, CREATED, "claude", includeUsage);
        BedrockFixtures.Collector out = new BedrockFixtures.Collector();
        for (int i = 0; i < stream.length; i += chunk) {
            translator.translateStream(ByteBuffer.wrap(stream, i, Math.min(chunk, stream.length - i)).slice(), out);
        }
        translator.endStream(out);
        return out.text();
    }

    private static String translateSplitAt(boolean includeUsage, byte[] stream, int cut) throws Exception {
        ConverseTranslator translator = new ConverseTranslator(ID, CREATED, "claude", includeUsage);
        BedrockFixtures.Collector out = new BedrockFixtures.Collector();
        translator.translateStream(ByteBuffer.wrap(stream, 0, cut).slice(), out);
        translator.translateStream(ByteBuffer.wrap(stream, cut, stream.length - cut).slice(), out);
        translator.endStream(out);
        return out.text();
    }

    private static JsonNode tree(String json) {
        return BedrockFixtures.tree(json.getBytes(StandardCharsets.UTF_8));
    }
}
