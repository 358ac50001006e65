package dev.detour.provider.mock;

import static dev.detour.provider.mock.MockFixtures.body;
import static dev.detour.provider.mock.MockFixtures.eventPayloads;
import static dev.detour.provider.mock.MockFixtures.json;
import static dev.detour.provider.mock.MockFixtures.responder;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.detour.api.Endpoint;
import java.util.List;
import org.junit.jupiter.api.Test;

class MockResponderCompletionTest {

    @Test
    void answersTextCompletionInOpenAiShape() {
        String request = "{\"model\":\"m\",\"prompt\":\"Say hi\",\"max_tokens\":50}";

        MockReply reply = responder().reply(Endpoint.COMPLETIONS, "instruct", "k1", false, body(request));

        assertEquals(200, reply.status());
        assertFalse(reply.streamed());
        JsonNode root = json(reply.body());
        assertEquals("cmpl-mock-1", root.get("id").asText());
        assertEquals("text_completion", root.get("object").asText());
        assertEquals(MockFixtures.NOW.getEpochSecond(), root.get("created").asLong());
        assertEquals("instruct", root.get("model").asText());
        JsonNode choice = root.get("choices").get(0);
        assertEquals("Hello from Detour's mock provider. You said: Say hi", choice.get("text").asText());
        assertEquals(0, choice.get("index").asInt());
        assertTrue(choice.get("logprobs").isNull());
        assertEquals("stop", choice.get("finish_reason").asText());
        assertEquals(2, root.at("/usage/prompt_tokens").asInt());
        assertEquals(9, root.at("/usage/completion_tokens").asInt());
        assertEquals(11, root.at("/usage/total_tokens").asInt());
    }

    @Test
    void defaultsToSixteenTokensAsOpenAiDoes() {
        String words = "one two three four five six seven eight nine ten";
        String request = "{\"model\":\"m\",\"prompt\":\"" + words + "\"}";

        JsonNode root = json(responder().reply(Endpoint.COMPLETIONS, "m", "k1", false, body(request)).body());

        assertEquals("length", root.at("/choices/0/finish_reason").asText());
        assertEquals(16, root.at("/usage/completion_tokens").asInt());
        assertEquals("Hello from Detour's mock provider. You said: one two three four five six seven eight nine",
                     root.at("/choices/0/text").asText());
    }

    @Test
    void countsTokenArrayPromptsAndEchoesLastStringPrompt() {
        String tokens = "{\"model\":\"m\",\"prompt\":[[1,2,3],[4,5]],\"max_tokens\":100}";
        String strings = "{\"model\":\"m\",\"prompt\":[\"first\",\"second one\"],\"max_tokens\":100}";

        JsonNode fromTokens = json(responder().reply(Endpoint.COMPLETIONS, "m", "k1", false, body(tokens)).body());
        JsonNode fromStrings = json(responder().reply(Endpoint.COMPLETIONS, "m", "k1", false, body(strings)).body());

        assertEquals(5, fromTokens.at("/usage/prompt_tokens").asInt());
        assertEquals(Generation.NO_USER_TEXT, fromTokens.at("/choices/0/text").asText());
        assertEquals("Hello from Detour's mock provider. You said: second one",
                     fromStrings.at("/choices/0/text").asText());
        assertEquals(2 + 3, fromStrings.at("/usage/prompt_tokens").asInt());
    }

    @Test
    void streamsTextPiecesThenFinishReasonThenDone() {
        String request = "{\"model\":\"m\",\"prompt\":\"Say hi\",\"max_tokens\":5,\"stream\":true}";

        MockReply reply = responder().reply(Endpoint.COMPLETIONS, "m", "k1", true, body(request));

        assertTrue(reply.streamed());
        assertEquals("text/event-stream", reply.headers().get("content-type"));
        List<JsonNode> chunks = eventPayloads(reply);
        assertEquals(6, chunks.size(), "five words and a finish chunk");
        StringBuilder text = new StringBuilder();
        for (JsonNode chunk : chunks) {
            assertEquals("text_completion", chunk.get("object").asText());
            assertEquals("cmpl-mock-1", chunk.get("id").asText());
            assertFalse(chunk.has("usage"));
            text.append(chunk.at("/choices/0/text").asText());
        }
        assertEquals("Hello from Detour's mock provider.", text.toString());
        JsonNode last = chunks.get(5);
        assertEquals("", last.at("/choices/0/text").asText());
        assertEquals("length", last.at("/choices/0/finish_reason").asText());
        assertTrue(chunks.get(4).at("/choices/0/finish_reason").isNull());
    }

    @Test
    void streamEndsWithUsageChunkWhenIncludeUsageIsSet() {
        String request = "{\"model\":\"m\",\"prompt\":\"Say hi\",\"stream_options\":{\"include_usage\":true}}";

        MockReply reply = responder().reply(Endpoint.COMPLETIONS, "m", "k1", true, body(request));

        List<JsonNode> chunks = eventPayloads(reply);
        JsonNode usage = chunks.get(chunks.size() - 1);
        assertTrue(usage.get("choices").isEmpty());
        assertEquals(9, usage.at("/usage/completion_tokens").asInt());
        for (JsonNode chunk : chunks.subList(0, chunks.size() - 1)) {
            assertTrue(chunk.get("usage").isNull());
        }
    }

    @Test
    void answersBadRequestWithoutPrompt() {
        MockReply reply = responder().reply(Endpoint.COMPLETIONS, "m", "k1", false, body("{\"model\":\"m\"}"));

        assertEquals(400, reply.status());
        assertEquals("prompt", json(reply.body()).at("/error/param").asText());
    }
}
