package dev.detour.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.api.UsageScanner;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class StreamAssemblerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HEAD = "\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":7,"
                                       + "\"model\":\"gpt\",\"system_fingerprint\":\"fp\"";

    @Test
    void assemblesContentFinishReasonAndUsage() throws IOException {
        JsonNode answer = assemble(CacheTesting.STREAM, 7);

        assertEquals("chat.completion", answer.get("object").asText());
        assertEquals("chatcmpl-2", answer.get("id").asText());
        assertEquals(1700000001, answer.get("created").asLong());
        assertEquals("up-model", answer.get("model").asText());
        JsonNode choice = answer.get("choices").get(0);
        assertEquals("assistant", choice.at("/message/role").asText());
        assertEquals("Hello there", choice.at("/message/content").asText());
        assertTrue(choice.at("/message/refusal").isNull());
        assertEquals("stop", choice.get("finish_reason").asText());
        assertEquals(7, answer.at("/usage/total_tokens").asInt());
    }

    @Test
    void mergesToolCallsAcrossChunksByIndex() throws IOException {
        String stream = event("{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
                              + "{\"index\":0,\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"get\","
                              + "\"arguments\":\"\"}}]},\"finish_reason\":null}")
                        + event("{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
                                + "\"{\\\"q\\\":\"}}]},\"finish_reason\":null}")
                        + event("{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\",\"type\":"
                                + "\"function\",\"function\":{\"name\":\"put\",\"arguments\":\"{}\"}}]},"
                                + "\"finish_reason\":null}")
                        + event("{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
                                + "\"1}\"}}]},\"finish_reason\":null}")
                        + event("{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}")
                        + "data: [DONE]\n\n";

        JsonNode answer = assemble(stream, 3);

        JsonNode message = answer.at("/choices/0/message");
        assertTrue(message.get("content").isNull(), message.toString());
        assertEquals("call_a", message.at("/tool_calls/0/id").asText());
        assertEquals("get", message.at("/tool_calls/0/function/name").asText());
        assertEquals("{\"q\":1}", message.at("/tool_calls/0/function/arguments").asText());
        assertEquals("put", message.at("/tool_calls/1/function/name").asText());
        assertEquals("{}", message.at("/tool_calls/1/function/arguments").asText());
        assertEquals("tool_calls", answer.at("/choices/0/finish_reason").asText());
        assertEquals("fp", answer.get("system_fingerprint").asText());
    }

    @Test
    void assemblesSeveralChoicesByIndex() throws IOException {
        String stream = event("{\"index\":1,\"delta\":{\"role\":\"assistant\",\"content\":\"B\"},"
                              + "\"finish_reason\":null}")
                        + event("{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"A\"},"
                                + "\"finish_reason\":null}")
                        + event("{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":\"stop\"}")
                        + event("{\"index\":1,\"delta\":{\"content\":\"b\"},\"finish_reason\":\"length\"}");

        JsonNode answer = assemble(stream, 11);

        assertEquals("Aa", answer.at("/choices/0/message/content").asText());
        assertEquals("Bb", answer.at("/choices/1/message/content").asText());
        assertEquals(1, answer.at("/choices/1/index").asInt());
        assertEquals("length", answer.at("/choices/1/finish_reason").asText());
    }

    @Test
    void concatenatesRefusalsProviderTextFieldsAndLogprobs() throws IOException {
        String stream = event("{\"index\":0,\"delta\":{\"reasoning_content\":\"think \"},\"logprobs\":{\"content\":"
                              + "[{\"token\":\"x\",\"logprob\":-1}]},\"finish_reason\":null}")
                        + event("{\"index\":0,\"delta\":{\"reasoning_content\":\"more\",\"refusal\":\"No.\"},"
                                + "\"logprobs\":{\"content\":[{\"token\":\"y\",\"logprob\":-2}]},"
                                + "\"finish_reason\":null}")
                        + event("{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}");

        JsonNode answer = assemble(stream, 5);

        assertEquals("think more", answer.at("/choices/0/message/reasoning_content").asText());
        assertEquals("No.", answer.at("/choices/0/message/refusal").asText());
        assertEquals(2, answer.at("/choices/0/logprobs/content").size());
        assertEquals("y", answer.at("/choices/0/logprobs/content/1/token").asText());
    }

    @Test
    void takesUsageFromTheScannerWhenTheStreamHasNone() throws IOException {
        String stream = event("{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":\"stop\"}");
        UsageScanner usage = new UsageScanner();
        byte[] hidden = "{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}"
                .getBytes(StandardCharsets.US_ASCII);
        usage.scan(hidden, 0, hidden.length);
        StreamAssembler a = new StreamAssembler(1 << 20);
        a.accept(ByteBuffer.wrap(stream.getBytes(StandardCharsets.UTF_8)));

        JsonNode answer = JSON.readTree(a.finish(usage));

        assertEquals(4, answer.at("/usage/total_tokens").asInt());
        assertEquals(3, answer.at("/usage/prompt_tokens").asInt());
    }

    @Test
    void leavesUsageOutWhenNobodyReportedIt() throws IOException {
        JsonNode answer = assemble(event("{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":\"stop\"}"), 4);

        assertFalse(answer.has("usage"));
    }

    @Test
    void refusesAStreamThatNeverFinished() {
        assertNull(finish(event("{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":null}")));
    }

    @Test
    void refusesAStreamWithAnErrorEvent() {
        String stream = event("{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":null}")
                        + "data: {\"error\":{\"message\":\"overloaded\"}}\n\n";

        assertNull(finish(stream));
        assertNull(finish("event: error\ndata: {\"message\":\"x\"}\n\n"
                          + event("{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":\"stop\"}")));
    }

    @Test
    void refusesMalformedChunks() {
        assertNull(finish("data: {not json\n\n" + event("{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}")));
        assertNull(finish(event("{\"index\":0,\"delta\":{\"audio\":{\"id\":\"a\"}},\"finish_reason\":\"stop\"}")),
                   "a delta field that cannot be merged");
        assertNull(finish(event("{\"index\":-1,\"delta\":{},\"finish_reason\":\"stop\"}")));
        assertNull(finish(event("{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
                                + "\"{}\"}}]},\"finish_reason\":\"tool_calls\"}")), "a tool call without id or name");
        assertNull(finish(""), "no chunk at all");
    }

    @Test
    void ignoresCommentsAndCrLfFraming() throws IOException {
        String stream = ": keep-alive\r\n\r\n" + event("{\"index\":0,\"delta\":{\"content\":\"ok\"},"
                                                       + "\"finish_reason\":\"stop\"}").replace("\n", "\r\n");

        assertEquals("ok", assemble(stream, 2).at("/choices/0/message/content").asText());
    }

    @Test
    void refusesAnAnswerLargerThanTheLimit() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            sb.append(event("{\"index\":0,\"delta\":{\"content\":\"0123456789\"},\"finish_reason\":null}"));
        }
        sb.append(event("{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}"));
        StreamAssembler a = new StreamAssembler(1000);
        a.accept(ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8)));

        assertTrue(a.tooLarge());
        assertNull(a.finish(null));
    }

    @Test
    void readsALastEventWithoutItsBlankLine() throws IOException {
        String stream = event("{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":null}")
                        + "data: {" + HEAD + ",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}";

        assertEquals("stop", assemble(stream, 9).at("/choices/0/finish_reason").asText());
    }

    static String event(String choice) {
        return "data: {" + HEAD + ",\"choices\":[" + choice + "]}\n\n";
    }

    private static JsonNode assemble(String stream, int piece) throws IOException {
        byte[] json = finish(stream, piece);
        assertTrue(json != null, "not assembled: " + stream);
        return JSON.readTree(json);
    }

    private static byte[] finish(String stream) {
        return finish(stream, 5);
    }

    /** Feeds {@code stream} in pieces of {@code piece} bytes, as a relay would. */
    private static byte[] finish(String stream, int piece) {
        StreamAssembler a = new StreamAssembler(1 << 20);
        byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i += piece) {
            a.accept(ByteBuffer.wrap(bytes, i, Math.min(piece, bytes.length - i)));
        }
        return a.finish(null);
    }
}
