package dev.detour.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SseReplayTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void replaysAChatCompletionAsWellFormedChunks() throws IOException {
        String sse = replay(CacheTesting.ANSWER, false);

        List<JsonNode> chunks = chunks(sse);
        assertTrue(sse.endsWith("data: [DONE]\n\n"), sse);
        assertEquals(3, chunks.size(), sse);
        for (JsonNode c : chunks) {
            assertEquals("chat.completion.chunk", c.get("object").asText());
            assertEquals("chatcmpl-1", c.get("id").asText());
            assertEquals("up-model", c.get("model").asText());
            assertFalse(c.has("usage"), "no usage unless asked for");
        }
        assertEquals("assistant", chunks.get(0).at("/choices/0/delta/role").asText());
        assertEquals("", chunks.get(0).at("/choices/0/delta/content").asText());
        assertEquals("Hello there", chunks.get(1).at("/choices/0/delta/content").asText());
        assertEquals("stop", chunks.get(2).at("/choices/0/finish_reason").asText());
    }

    @Test
    void addsTheUsageChunkWhenAskedFor() throws IOException {
        List<JsonNode> chunks = chunks(replay(CacheTesting.ANSWER, true));

        JsonNode last = chunks.get(chunks.size() - 1);
        assertEquals(0, last.get("choices").size());
        assertEquals(7, last.at("/usage/total_tokens").asInt());
        assertTrue(chunks.get(0).get("usage").isNull(), "earlier chunks carry usage: null, as OpenAI's do");
    }

    @Test
    void roundTripsThroughTheAssembler() throws IOException {
        String answer = """
                {"id":"c9","object":"chat.completion","created":5,"model":"m","choices":[
                {"index":0,"message":{"role":"assistant","content":null,"refusal":null,"tool_calls":[
                {"id":"call_1","type":"function","function":{"name":"f","arguments":"{\\"a\\":1}"}},
                {"id":"call_2","type":"function","function":{"name":"g","arguments":""}}]},
                "logprobs":null,"finish_reason":"tool_calls"},
                {"index":1,"message":{"role":"assistant","content":"two","refusal":null,"reasoning_content":"hm"},
                "logprobs":{"content":[{"token":"two","logprob":-0.5}],"refusal":null},"finish_reason":"stop"},
                {"index":2,"message":{"role":"assistant","content":null,"refusal":"Cannot."},
                "logprobs":null,"finish_reason":"stop"}],
                "usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3},"system_fingerprint":"fp"}
                """;

        String sse = replay(answer, true);
        StreamAssembler assembler = new StreamAssembler(1 << 20);
        assembler.accept(ByteBuffer.wrap(sse.getBytes(StandardCharsets.UTF_8)));

        assertEquals(JSON.readTree(answer), JSON.readTree(assembler.finish(null)), sse);
    }

    @Test
    void refusesWhatIsNotAChatCompletion() {
        assertThrows(IOException.class, () -> SseReplay.render("{\"data\":[]}".getBytes(StandardCharsets.UTF_8),
                                                               false));
    }

    static List<JsonNode> chunks(String sse) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String event : sse.split("\n\n")) {
            assertTrue(event.startsWith("data: "), event);
            String data = event.substring(6);
            if (!data.equals("[DONE]")) {
                out.add(JSON.readTree(data));
            }
        }
        return out;
    }

    private static String replay(String answer, boolean includeUsage) throws IOException {
        return new String(SseReplay.render(answer.getBytes(StandardCharsets.UTF_8), includeUsage),
                          StandardCharsets.UTF_8);
    }
}
