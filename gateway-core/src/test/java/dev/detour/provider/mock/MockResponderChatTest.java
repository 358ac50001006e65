package dev.detour.provider.mock;

import static dev.detour.provider.mock.MockFixtures.body;
import static dev.detour.provider.mock.MockFixtures.eventPayloads;
import static dev.detour.provider.mock.MockFixtures.json;
import static dev.detour.provider.mock.MockFixtures.responder;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.detour.api.Endpoint;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class MockResponderChatTest {

    private static final String HELLO = "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                                        + "{\"role\":\"user\",\"content\":\"What is   the\\nweather?\"}]}";

    @Test
    void answersChatCompletionInOpenAiShape() {
        MockResponder mock = responder(Duration.ofMillis(250), 0, 16);

        MockReply reply = mock.reply(Endpoint.CHAT_COMPLETIONS, "mock-small", "k1", false, body(HELLO));

        assertEquals(200, reply.status());
        assertEquals("application/json", reply.headers().get("content-type"));
        assertEquals(Duration.ofMillis(250), reply.delay());
        assertFalse(reply.streamed());
        assertFalse(reply.hang());
        JsonNode root = json(reply.body());
        assertEquals("chatcmpl-mock-1", root.get("id").asText());
        assertEquals("chat.completion", root.get("object").asText());
        assertEquals(MockFixtures.NOW.getEpochSecond(), root.get("created").asLong());
        assertEquals("mock-small", root.get("model").asText());
        assertEquals("fp_detour_mock", root.get("system_fingerprint").asText());
        assertEquals(1, root.get("choices").size());
        JsonNode choice = root.get("choices").get(0);
        assertEquals(0, choice.get("index").asInt());
        assertEquals("stop", choice.get("finish_reason").asText());
        assertTrue(choice.get("logprobs").isNull(), "logprobs is an explicit null");
        JsonNode message = choice.get("message");
        assertEquals("assistant", message.get("role").asText());
        assertTrue(message.get("refusal").isNull(), "refusal is an explicit null");
        assertEquals("Hello from Detour's mock provider. You said: What is the weather?",
                     message.get("content").asText());
        JsonNode usage = root.get("usage");
        // "Be brief." (9) + "What is   the\nweather?" (22) = 31 chars -> 8 tokens, plus 3 per message.
        assertEquals(14, usage.get("prompt_tokens").asInt());
        assertEquals(11, usage.get("completion_tokens").asInt());
        assertEquals(25, usage.get("total_tokens").asInt());
    }

    @Test
    void numbersIdsInSequence() {
        MockResponder mock = responder();

        String first = json(mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, body(HELLO)).body())
                .get("id").asText();
        String second = json(mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, body(HELLO)).body())
                .get("id").asText();

        assertNotEquals(first, second);
        assertEquals("chatcmpl-mock-2", second);
    }

    @Test
    void echoesLastUserMessageFromTextParts() {
        String request = "{\"model\":\"m\",\"messages\":["
                         + "{\"role\":\"user\",\"content\":\"first question\"},"
                         + "{\"role\":\"assistant\",\"content\":\"an answer\"},"
                         + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Describe\"},"
                         + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,AAAA\"}},"
                         + "{\"type\":\"text\",\"text\":\"this \\\"image\\\"\"}]}]}";

        MockReply reply = responder().reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, body(request));

        assertEquals("Hello from Detour's mock provider. You said: Describe this \"image\"",
                     json(reply.body()).at("/choices/0/message/content").asText());
    }

    @Test
    void answersFixedSentenceWithoutUserMessage() {
        String request = "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"You are terse.\"}]}";

        MockReply reply = responder().reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, body(request));

        assertEquals(Generation.NO_USER_TEXT, json(reply.body()).at("/choices/0/message/content").asText());
    }

    @Test
    void echoesAtMostTwoHundredCharacters() {
        String longText = "x".repeat(500);
        String request = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"" + longText + "\"}]}";

        MockReply reply = responder().reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, body(request));

        assertEquals("Hello from Detour's mock provider. You said: " + "x".repeat(200),
                     json(reply.body()).at("/choices/0/message/content").asText());
    }

    @Test
    void truncatesToMaxTokensWithFinishReasonLength() {
        String request = "{\"model\":\"m\",\"max_tokens\":3,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

        JsonNode root = json(responder().reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, body(request)).body());

        assertEquals("Hello from Detour's", root.at("/choices/0/message/content").asText());
        assertEquals("length", root.at("/choices/0/finish_reason").asText());
        assertEquals(3, root.at("/usage/completion_tokens").asInt());
    }

    @Test
    void prefersMaxCompletionTokensOverMaxTokens() {
        String request = "{\"model\":\"m\",\"max_tokens\":1,\"max_completion_tokens\":2,"
                         + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

        JsonNode root = json(responder().reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, body(request)).body());

        assertEquals("Hello from", root.at("/choices/0/message/content").asText());
    }

    @Test
    void streamsWordsWhoseDeltasJoinToTheFullContent() {
        MockResponder mock = responder(Duration.ofMillis(100), 20, 16);
        String full = json(mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, body(HELLO)).body())
                .at("/choices/0/message/content").asText();

        MockReply reply = mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", true, body(HELLO));

        assertEquals(200, reply.status());
        assertTrue(reply.streamed());
        assertEquals(0, reply.body().length);
        assertEquals("text/event-stream", reply.headers().get("content-type"));
        assertEquals("no-cache", reply.headers().get("cache-control"));
        assertEquals(Duration.ofMillis(100), reply.delay());
        assertEquals(Duration.ofMillis(50), reply.interEventDelay());
        List<JsonNode> chunks = eventPayloads(reply);
        JsonNode first = chunks.get(0);
        assertEquals("assistant", first.at("/choices/0/delta/role").asText());
        assertEquals("", first.at("/choices/0/delta/content").asText());
        StringBuilder content = new StringBuilder();
        for (JsonNode chunk : chunks) {
            assertEquals("chatcmpl-mock-2", chunk.get("id").asText());
            assertEquals("chat.completion.chunk", chunk.get("object").asText());
            assertEquals(MockFixtures.NOW.getEpochSecond(), chunk.get("created").asLong());
            assertEquals("m", chunk.get("model").asText());
            assertEquals("fp_detour_mock", chunk.get("system_fingerprint").asText());
            assertFalse(chunk.has("usage"), "no usage field unless include_usage");
            content.append(chunk.at("/choices/0/delta/content").asText(""));
        }
        assertEquals(full, content.toString());
        // Role chunk, one per word, finish chunk.
        assertEquals(1 + full.split(" ").length + 1, chunks.size());
        for (JsonNode chunk : chunks.subList(0, chunks.size() - 1)) {
            assertTrue(chunk.at("/choices/0/finish_reason").isNull(), () -> "finish_reason null in " + chunk);
        }
        JsonNode last = chunks.get(chunks.size() - 1);
        assertEquals("stop", last.at("/choices/0/finish_reason").asText());
        assertEquals(0, last.at("/choices/0/delta").size(), "finish chunk has an empty delta");
    }

    @Test
    void streamEndsWithUsageChunkWhenIncludeUsageIsSet() {
        String request = "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                         + "\"max_completion_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

        MockReply reply = responder().reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", true, body(request));

        List<JsonNode> chunks = eventPayloads(reply);
        JsonNode usageChunk = chunks.get(chunks.size() - 1);
        assertTrue(usageChunk.get("choices").isArray() && usageChunk.get("choices").isEmpty(),
                   "usage chunk has empty choices");
        assertEquals(4, usageChunk.at("/usage/completion_tokens").asInt());
        assertEquals(1 + 3, usageChunk.at("/usage/prompt_tokens").asInt());
        assertEquals(8, usageChunk.at("/usage/total_tokens").asInt());
        for (JsonNode chunk : chunks.subList(0, chunks.size() - 1)) {
            assertTrue(chunk.has("usage") && chunk.get("usage").isNull(), () -> "usage null in " + chunk);
        }
        assertEquals("length", chunks.get(chunks.size() - 2).at("/choices/0/finish_reason").asText());
        assertEquals(Duration.ZERO, reply.interEventDelay(), "tokensPerSecond 0 sends at once");
    }

    @Test
    void escapesControlCharactersAndQuotesInEchoedText() {
        String request = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\\\"b\\\\c\\u0001d\"}]}";

        MockReply reply = responder().reply(Endpoint.CHAT_COMPLETIONS, "m\"odel", "k1", true, body(request));

        List<JsonNode> chunks = eventPayloads(reply);
        assertEquals("m\"odel", chunks.get(0).get("model").asText());
        assertEquals(" a\"b\\c\u0001d", chunks.get(chunks.size() - 2).at("/choices/0/delta/content").asText());
    }

    @Test
    void leavesTheBodyStreamOpen() {
        boolean[] closed = {false};
        InputStream request = new ByteArrayInputStream(HELLO.getBytes(StandardCharsets.UTF_8)) {
            @Override
            public void close() {
                closed[0] = true;
            }
        };

        responder().reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, request);

        assertFalse(closed[0], "the caller owns the body");
    }

    @Test
    void answersBadRequestForUnparseableBody() {
        MockReply reply = responder().reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", true, body("{\"model\":"));

        assertEquals(400, reply.status());
        assertFalse(reply.streamed());
        assertEquals("application/json", reply.headers().get("content-type"));
        JsonNode error = json(reply.body()).get("error");
        assertEquals("invalid_request_error", error.get("type").asText());
        assertTrue(error.get("message").asText().contains("could not parse the JSON body"));
        assertTrue(error.has("param") && error.has("code"), "envelope has all four fields");
    }

    @Test
    void answersBadRequestForNonObjectOrTrailingGarbage() {
        MockResponder mock = responder();

        assertEquals(400, mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, body("[1]")).status());
        assertEquals(400, mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, body("")).status());
        assertEquals(400, mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, body(HELLO + "}")).status());
    }

    @Test
    void answersBadRequestForMissingMessagesOrBadMaxTokens() {
        MockResponder mock = responder();

        MockReply missing = mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, body("{\"model\":\"m\"}"));
        MockReply zero = mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, body(
                "{\"model\":\"m\",\"max_tokens\":0,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));

        assertEquals(400, missing.status());
        assertEquals("messages", json(missing.body()).at("/error/param").asText());
        assertEquals("missing_required_parameter", json(missing.body()).at("/error/code").asText());
        assertEquals(400, zero.status());
        assertEquals("max_tokens", json(zero.body()).at("/error/param").asText());
    }
}
