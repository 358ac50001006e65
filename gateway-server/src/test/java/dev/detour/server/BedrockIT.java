package dev.detour.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.matching;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.RateLimitException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionUsage;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import dev.detour.server.testing.TestGateway;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The real gateway in front of WireMock playing AWS Bedrock: requests arrive SigV4-signed at the Converse,
 * ConverseStream and InvokeModel paths, JSON and binary event-stream answers come back as OpenAI's, and Bedrock's
 * errors as OpenAI's envelope. The OpenAI Java SDK is the client where it can be.
 */
class BedrockIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONVERSE = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";
    private static final String CONVERSE_STREAM = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream";
    private static final String THROTTLED_STREAM = "/model/meta.llama3-70b-instruct-v1%3A0/converse-stream";
    private static final String AUTHORIZATION = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\\d{8}/us-east-1/bedrock/"
                                                + "aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, "
                                                + "Signature=[0-9a-f]{64}";

    private static WireMockServer upstream;
    private static TestGateway gateway;
    private static OpenAIClient client;

    @BeforeAll
    static void start() {
        upstream = new WireMockServer(wireMockConfig().dynamicPort());
        upstream.start();
        gateway = TestGateway.start("""
                upstream:
                  timeouts: {connect: 2s, first-byte: 5s, idle: 5s, total: 10s}
                providers:
                  aws:
                    type: bedrock
                    base-url: http://127.0.0.1:%d
                    options: {region: us-east-1}
                    keys:
                      - id: main
                        value: AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
                  # Separate key pools, so that a throttled answer cools no key another test uses.
                  aws-limited:
                    type: bedrock
                    base-url: http://127.0.0.1:%d
                    options: {region: us-east-1}
                    keys:
                      - id: limited
                        value: AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
                  aws-llama:
                    type: bedrock
                    base-url: http://127.0.0.1:%d
                    options: {region: us-east-1}
                    keys:
                      - id: llama
                        value: AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
                routes:
                  - model: claude
                    targets:
                      - provider: aws
                        model: anthropic.claude-3-haiku-20240307-v1:0
                  - model: throttled
                    targets:
                      - provider: aws-limited
                        model: anthropic.claude-3-haiku-20240307-v1:0
                  - model: llama-then-claude
                    targets:
                      - provider: aws-llama
                        model: meta.llama3-70b-instruct-v1:0
                      - provider: aws
                        model: anthropic.claude-3-haiku-20240307-v1:0
                  - model: titan
                    targets:
                      - provider: aws
                        model: amazon.titan-embed-text-v2:0
                """.formatted(upstream.port(), upstream.port(), upstream.port()));
        client = gateway.openAiClient();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (gateway != null) {
            gateway.close();
        }
        if (upstream != null) {
            upstream.stop();
        }
    }

    @BeforeEach
    void resetUpstream() {
        upstream.resetAll();
    }

    @Test
    void answersChatFromConverseWithSignedRequest() throws Exception {
        upstream.stubFor(post(urlEqualTo(CONVERSE)).willReturn(aResponse()
                .withStatus(200)
                .withHeader("content-type", "application/json")
                .withHeader("x-amzn-RequestId", "b7f0e1d2")
                .withBody("""
                        {"output": {"message": {"role": "assistant", "content": [{"text": "Sunny, 18 °C."}]}},
                         "stopReason": "end_turn",
                         "usage": {"inputTokens": 85, "outputTokens": 6, "totalTokens": 91},
                         "metrics": {"latencyMs": 412}}
                        """)));
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder()
                .model("claude")
                .addSystemMessage("Answer briefly.")
                .addUserMessage("Weather in Paris?")
                .maxCompletionTokens(100)
                .build();

        ChatCompletion completion = client.chat().completions().create(params);

        assertEquals("claude", completion.model());
        assertTrue(completion.id().startsWith("chatcmpl-"), completion.id());
        assertEquals("Sunny, 18 °C.", completion.choices().get(0).message().content().orElseThrow());
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, completion.choices().get(0).finishReason());
        CompletionUsage usage = completion.usage().orElseThrow();
        assertEquals(85, usage.promptTokens());
        assertEquals(6, usage.completionTokens());
        assertEquals(91, usage.totalTokens());
        LoggedRequest sent = onlyRequest(CONVERSE);
        assertTrue(sent.getHeader("Authorization").matches(AUTHORIZATION), sent.getHeader("Authorization"));
        assertTrue(sent.getHeader("X-Amz-Date").matches("\\d{8}T\\d{6}Z"), sent.getHeader("X-Amz-Date"));
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(sent.getBody())),
                     sent.getHeader("x-amz-content-sha256"), "the signed payload hash is the body's");
        assertFalse(sent.containsHeader("x-amz-security-token"));
        assertEquals(JSON.readTree("""
                {"messages": [{"role": "user", "content": [{"text": "Weather in Paris?"}]}],
                 "system": [{"text": "Answer briefly."}],
                 "inferenceConfig": {"maxTokens": 100}}
                """), JSON.readTree(sent.getBody()));
    }

    @Test
    void streamsChatFromBinaryEventStream() {
        upstream.stubFor(post(urlEqualTo(CONVERSE_STREAM))
                .withHeader("Authorization", matching(AUTHORIZATION))
                .withHeader("Accept", matching("application/vnd\\.amazon\\.eventstream"))
                .willReturn(eventStream(textStream()).withChunkedDribbleDelay(5, 50)));
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder()
                .model("claude")
                .addUserMessage("Weather in Paris?")
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
                .build();

        List<ChatCompletionChunk> chunks = stream(params);

        assertEquals("Sunny, 18 °C.", deltas(chunks));
        assertEquals(Optional.of(ChatCompletionChunk.Choice.Delta.Role.ASSISTANT),
                     chunks.get(0).choices().get(0).delta().role());
        ChatCompletionChunk finish = chunks.get(chunks.size() - 2);
        assertEquals(Optional.of(ChatCompletionChunk.Choice.FinishReason.STOP), finish.choices().get(0).finishReason());
        ChatCompletionChunk last = chunks.get(chunks.size() - 1);
        assertTrue(last.choices().isEmpty(), "the usage chunk has no choices");
        assertEquals(89, last.usage().orElseThrow().totalTokens());
    }

    @Test
    void streamsToolCallDeltasAsOpenAiSse() throws Exception {
        upstream.stubFor(post(urlEqualTo(CONVERSE_STREAM)).willReturn(eventStream(concat(
                event("messageStart", "{\"role\":\"assistant\"}"),
                event("contentBlockStart", "{\"contentBlockIndex\":0,\"start\":{\"toolUse\":"
                                           + "{\"toolUseId\":\"tooluse_1\",\"name\":\"get_weather\"}}}"),
                toolInput("{\\\"city\\\":"),
                toolInput("\\\"Paris\\\"}"),
                event("contentBlockStop", "{\"contentBlockIndex\":0}"),
                event("messageStop", "{\"stopReason\":\"tool_use\"}"),
                event("metadata", "{\"usage\":{\"inputTokens\":20,\"outputTokens\":9,\"totalTokens\":29}}")))));

        HttpResponse<String> response = gateway.postJson("/v1/chat/completions", """
                {"model": "claude", "stream": true,
                 "messages": [{"role": "user", "content": "Weather in Paris?"}],
                 "tools": [{"type": "function", "function": {"name": "get_weather",
                   "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]}
                """);

        assertEquals(200, response.statusCode(), response.body());
        assertTrue(response.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<String> events = List.of(response.body().split("\n\n"));
        assertEquals("data: [DONE]", events.get(events.size() - 1));
        JsonNode start = JSON.readTree(events.get(1).substring(6)).at("/choices/0/delta/tool_calls/0");
        assertEquals("tooluse_1", start.get("id").asText());
        assertEquals("get_weather", start.at("/function/name").asText());
        String arguments = events.stream().filter(e -> e.startsWith("data: {"))
                .map(e -> readTree(e.substring(6)).at("/choices/0/delta/tool_calls/0/function/arguments").asText(""))
                .collect(Collectors.joining());
        assertEquals("{\"city\":\"Paris\"}", arguments);
        JsonNode finish = JSON.readTree(events.get(events.size() - 2).substring(6));
        assertEquals("tool_calls", finish.at("/choices/0/finish_reason").asText());
        JsonNode sent = JSON.readTree(onlyRequest(CONVERSE_STREAM).getBody());
        assertEquals("get_weather", sent.at("/toolConfig/tools/0/toolSpec/name").asText());
    }

    @Test
    void answersThrottlingAsOpenAiRateLimit() throws Exception {
        upstream.stubFor(post(urlEqualTo(CONVERSE)).willReturn(aResponse()
                .withStatus(429)
                .withHeader("content-type", "application/json")
                .withHeader("x-amzn-ErrorType",
                            "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/")
                .withBody("{\"message\":\"Too many requests, please wait before trying again.\"}")));

        HttpResponse<String> response = gateway.postJson("/v1/chat/completions",
                "{\"model\":\"throttled\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");

        assertEquals(429, response.statusCode(), response.body());
        JsonNode error = JSON.readTree(response.body()).get("error");
        assertEquals("rate_limit_error", error.get("type").asText());
        assertTrue(error.has("message") && error.has("code") && error.has("param"), error.toString());
        RateLimitException e = assertThrows(RateLimitException.class,
                () -> client.chat().completions().create(ChatCompletionCreateParams.builder()
                        .model("throttled").addUserMessage("Hi").build()));
        assertEquals(429, e.statusCode());
    }

    @Test
    void failsOverWhenStreamThrottlesBeforeItsFirstContent() {
        upstream.stubFor(post(urlEqualTo(THROTTLED_STREAM)).willReturn(eventStream(concat(
                event("messageStart", "{\"role\":\"assistant\"}"),
                exception("throttlingException",
                          "{\"message\":\"Too many requests, please wait before trying again.\"}")))));
        upstream.stubFor(post(urlEqualTo(CONVERSE_STREAM)).willReturn(eventStream(textStream())));
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder()
                .model("llama-then-claude")
                .addUserMessage("Weather in Paris?")
                .build();

        List<ChatCompletionChunk> chunks = stream(params);

        assertEquals("Sunny, 18 °C.", deltas(chunks));
        assertEquals(1, upstream.findAll(postRequestedFor(urlEqualTo(THROTTLED_STREAM))).size());
        assertTrue(chunks.stream().allMatch(c -> c.usage().isEmpty()), "no usage unless asked for");
    }

    @Test
    void answersEmbeddingsFromTitan() throws Exception {
        String invoke = "/model/amazon.titan-embed-text-v2%3A0/invoke";
        upstream.stubFor(post(urlEqualTo(invoke))
                .withRequestBody(equalToJson("{\"inputText\":\"The quick brown fox\",\"normalize\":true}", false, true))
                .willReturn(aResponse()
                        .withStatus(200)
                        .withHeader("content-type", "application/json")
                        .withBody("{\"embedding\":[0.0123,-0.0456,0.5],\"inputTextTokenCount\":6}")));
        EmbeddingCreateParams params = EmbeddingCreateParams.builder()
                .model("titan")
                .input("The quick brown fox")
                .build();

        CreateEmbeddingResponse response = client.embeddings().create(params);

        assertEquals(1, response.data().size());
        assertEquals(List.of(0.0123f, -0.0456f, 0.5f), response.data().get(0).embedding());
        assertEquals(6, response.usage().promptTokens());
        assertTrue(onlyRequest(invoke).getHeader("Authorization").matches(AUTHORIZATION));
    }

    private static byte[] textStream() {
        return concat(
                event("messageStart", "{\"p\":\"abcdefgh\",\"role\":\"assistant\"}"),
                event("contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Sunny, \"},\"p\":\"ab\"}"),
                event("contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"18 °C.\"}}"),
                event("contentBlockStop", "{\"contentBlockIndex\":0}"),
                event("messageStop", "{\"stopReason\":\"end_turn\"}"),
                event("metadata", "{\"usage\":{\"inputTokens\":85,\"outputTokens\":4,\"totalTokens\":89},"
                                  + "\"metrics\":{\"latencyMs\":412}}"));
    }

    /** Returns a toolUse input delta of content block 0; {@code escapedPiece} is already a JSON string's content. */
    private static byte[] toolInput(String escapedPiece) {
        return event("contentBlockDelta",
                     "{\"contentBlockIndex\":0,\"delta\":{\"toolUse\":{\"input\":\"" + escapedPiece + "\"}}}");
    }

    private static ResponseDefinitionBuilder eventStream(byte[] body) {
        return aResponse()
                .withStatus(200)
                .withHeader("content-type", "application/vnd.amazon.eventstream")
                .withHeader("x-amzn-RequestId", "b7f0e1d2")
                .withBody(body);
    }

    private static byte[] event(String type, String json) {
        return frame(Map.of(":message-type", "event", ":event-type", type, ":content-type", "application/json"), json);
    }

    private static byte[] exception(String type, String json) {
        return frame(Map.of(":message-type", "exception", ":exception-type", type, ":content-type", "application/json"),
                     json);
    }

    /** Encodes one AWS event stream message: prelude, prelude CRC, string headers, payload, message CRC. */
    private static byte[] frame(Map<String, String> headers, String json) {
        ByteArrayOutputStream h = new ByteArrayOutputStream();
        headers.forEach((name, value) -> {
            byte[] v = value.getBytes(StandardCharsets.UTF_8);
            h.write(name.length());
            h.writeBytes(name.getBytes(StandardCharsets.US_ASCII));
            h.write(7);
            h.write(v.length >> 8);
            h.write(v.length & 0xFF);
            h.writeBytes(v);
        });
        byte[] payload = json.getBytes(StandardCharsets.UTF_8);
        int total = 16 + h.size() + payload.length;
        ByteBuffer b = ByteBuffer.allocate(total);
        b.putInt(total).putInt(h.size());
        b.putInt(crc(b.array(), 8));
        b.put(h.toByteArray()).put(payload);
        b.putInt(crc(b.array(), total - 4));
        return b.array();
    }

    private static int crc(byte[] bytes, int length) {
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, length);
        return (int) crc.getValue();
    }

    private static byte[] concat(byte[]... frames) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] f : frames) {
            out.writeBytes(f);
        }
        return out.toByteArray();
    }

    private static List<ChatCompletionChunk> stream(ChatCompletionCreateParams params) {
        try (StreamResponse<ChatCompletionChunk> response = client.chat().completions().createStreaming(params)) {
            return response.stream().toList();
        }
    }

    private static String deltas(List<ChatCompletionChunk> chunks) {
        return chunks.stream()
                .filter(c -> !c.choices().isEmpty())
                .map(c -> c.choices().get(0).delta().content().orElse(""))
                .collect(Collectors.joining());
    }

    private static LoggedRequest onlyRequest(String url) {
        List<LoggedRequest> requests = upstream.findAll(postRequestedFor(urlEqualTo(url)));
        assertEquals(1, requests.size(), "requests to " + url);
        return requests.get(0);
    }

    private static JsonNode readTree(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
