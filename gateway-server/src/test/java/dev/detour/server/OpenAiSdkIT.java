package dev.detour.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
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
import com.openai.errors.NotFoundException;
import com.openai.errors.RateLimitException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.Embedding;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.models.Model;
import dev.detour.server.testing.TestGateway;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The official OpenAI Java SDK as the client: Detour must look like OpenAI to it, in front of the
 * built-in mock provider and of a WireMock upstream that answers with OpenAI's own shapes.
 */
class OpenAiSdkIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MOCK_DIMENSIONS = 8;
    private static final String USER_TEXT = "hello from the sdk";
    private static final String CHUNK_HEAD = "{\"id\":\"chatcmpl-7Qx\",\"object\":\"chat.completion.chunk\","
                                             + "\"created\":1763700000,\"model\":\"gpt-4o-mini\",";

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
                  mock:
                    type: mock
                    mock:
                      embedding-dimensions: %d
                  wm:
                    type: openai
                    base-url: http://127.0.0.1:%d/v1
                    keys:
                      - id: k1
                        value: sk-test-1
                  wm-limited:
                    type: openai
                    base-url: http://127.0.0.1:%d/limited/v1
                    keys:
                      - id: k1
                        value: sk-test-2
                routes:
                  - model: gpt-4o-mini
                    targets:
                      - provider: mock
                  - model: gpt-3.5-turbo-instruct
                    targets:
                      - provider: mock
                  - model: text-embedding-3-small
                    targets:
                      - provider: mock
                  - model: wm-chat
                    targets:
                      - provider: wm
                        model: gpt-4o-mini
                  - model: wm-embedding
                    targets:
                      - provider: wm
                        model: text-embedding-3-small
                  - model: meta-llama/llama-3.1-8b
                    targets:
                      - provider: mock
                  - model: wm-limited
                    max-wait: 0s
                    targets:
                      - provider: wm-limited
                        model: gpt-4o-mini
                """.formatted(MOCK_DIMENSIONS, upstream.port(), upstream.port()));
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

    // --- against the built-in mock provider ---

    @Test
    void parsesMockChatCompletion() {
        ChatCompletion completion = client.chat().completions().create(chat("gpt-4o-mini").build());

        String content = completion.choices().get(0).message().content().orElseThrow();
        assertTrue(content.contains("You said: " + USER_TEXT), content);
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, completion.choices().get(0).finishReason());
        CompletionUsage usage = completion.usage().orElseThrow();
        assertTrue(usage.promptTokens() > 0 && usage.completionTokens() > 0, usage.toString());
        assertEquals(usage.promptTokens() + usage.completionTokens(), usage.totalTokens());
    }

    @Test
    void streamsMockChatCompletionWithSameTextAsFullReply() {
        String expected = client.chat().completions().create(chat("gpt-4o-mini").build())
                .choices().get(0).message().content().orElseThrow();

        List<ChatCompletionChunk> chunks = stream(chat("gpt-4o-mini").build());

        assertTrue(chunks.size() > 2, "one chunk per word: " + chunks.size());
        assertEquals(expected, deltas(chunks));
        assertEquals(Optional.of(ChatCompletionChunk.Choice.FinishReason.STOP),
                     chunks.get(chunks.size() - 1).choices().get(0).finishReason());
        assertTrue(chunks.stream().allMatch(c -> c.usage().isEmpty()), "no usage unless asked for");
    }

    @Test
    void streamsMockUsageChunkWhenIncludeUsageIsSet() {
        ChatCompletionCreateParams params = chat("gpt-4o-mini")
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
                .build();

        List<ChatCompletionChunk> chunks = stream(params);

        ChatCompletionChunk last = chunks.get(chunks.size() - 1);
        assertTrue(last.choices().isEmpty(), "the usage chunk has no choices");
        CompletionUsage usage = last.usage().orElseThrow();
        long words = deltas(chunks).split(" ").length;
        assertEquals(words, usage.completionTokens());
        assertEquals(usage.promptTokens() + usage.completionTokens(), usage.totalTokens());
        assertTrue(chunks.subList(0, chunks.size() - 1).stream().allMatch(c -> c.usage().isEmpty()));
    }

    @Test
    void createsMockEmbeddingPerInput() {
        EmbeddingCreateParams params = EmbeddingCreateParams.builder()
                .model("text-embedding-3-small")
                .inputOfArrayOfStrings(List.of("first", "second", "third"))
                .build();

        CreateEmbeddingResponse response = client.embeddings().create(params);

        assertEquals(3, response.data().size());
        for (int i = 0; i < 3; i++) {
            Embedding embedding = response.data().get(i);
            assertEquals(i, embedding.index());
            assertEquals(MOCK_DIMENSIONS, embedding.embedding().size());
        }
        assertTrue(response.usage().promptTokens() > 0);
    }

    @Test
    void listsRouteNamesAsModels() {
        List<String> ids = client.models().list().data().stream().map(Model::id).toList();

        assertEquals(List.of("gpt-4o-mini", "gpt-3.5-turbo-instruct", "text-embedding-3-small", "wm-chat",
                             "wm-embedding", "meta-llama/llama-3.1-8b", "wm-limited"), ids);
    }

    @Test
    void retrievesOneModel() {
        Model model = client.models().retrieve("wm-chat");

        assertEquals("wm-chat", model.id());
        assertEquals("wm", model.ownedBy());
    }

    @Test
    void retrievesModelWhoseNameHasASlash() {
        Model model = client.models().retrieve("meta-llama/llama-3.1-8b");

        assertEquals("meta-llama/llama-3.1-8b", model.id());
    }

    @Test
    void throwsNotFoundWhenRetrievingUnknownModel() {
        NotFoundException e = assertThrows(NotFoundException.class, () -> client.models().retrieve("no-such-model"));

        assertEquals(404, e.statusCode());
        assertTrue(e.getMessage().contains("no-such-model"), e.getMessage());
    }

    @Test
    void answersChatForModelWhoseNameHasASlash() {
        ChatCompletion completion = client.chat().completions().create(chat("meta-llama/llama-3.1-8b").build());

        assertEquals("meta-llama/llama-3.1-8b", completion.model());
    }

    @Test
    void createsMockLegacyCompletion() {
        CompletionCreateParams params = CompletionCreateParams.builder()
                .model("gpt-3.5-turbo-instruct")
                .prompt(USER_TEXT)
                .maxTokens(64)
                .build();

        Completion completion = client.completions().create(params);

        String text = completion.choices().get(0).text();
        assertTrue(text.contains(USER_TEXT), text);
        CompletionUsage usage = completion.usage().orElseThrow();
        assertEquals(usage.promptTokens() + usage.completionTokens(), usage.totalTokens());
    }

    @Test
    void throwsNotFoundForUnknownModel() {
        ChatCompletionCreateParams params = chat("no-such-model").build();

        NotFoundException e = assertThrows(NotFoundException.class, () -> client.chat().completions().create(params));

        assertEquals(404, e.statusCode());
        assertTrue(e.getMessage().contains("no-such-model"), e.getMessage());
        assertEquals(Optional.of("model_not_found"), e.code());
    }

    // --- against a WireMock upstream speaking OpenAI ---

    @Test
    void parsesUpstreamChatCompletion() throws Exception {
        upstream.stubFor(post(urlEqualTo("/v1/chat/completions")).willReturn(json(200, """
                {"id": "chatcmpl-7Qx", "object": "chat.completion", "created": 1763700000,
                 "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_1a2b",
                 "choices": [{"index": 0, "logprobs": null, "finish_reason": "stop",
                   "message": {"role": "assistant", "content": "Sunny, 18 degrees.", "refusal": null}}],
                 "usage": {"prompt_tokens": 85, "completion_tokens": 18, "total_tokens": 103,
                   "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                   "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                     "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}}
                """)));

        ChatCompletion completion = client.chat().completions().create(chat("wm-chat").build());

        assertEquals("chatcmpl-7Qx", completion.id());
        assertEquals("gpt-4o-mini-2024-07-18", completion.model());
        assertEquals("Sunny, 18 degrees.", completion.choices().get(0).message().content().orElseThrow());
        CompletionUsage usage = completion.usage().orElseThrow();
        assertEquals(85, usage.promptTokens());
        assertEquals(18, usage.completionTokens());
        assertEquals(103, usage.totalTokens());
        JsonNode sent = JSON.readTree(onlyRequest("/v1/chat/completions").getBody());
        assertEquals("gpt-4o-mini", sent.get("model").asText(), "the route name is mapped to the upstream's");
        assertEquals(USER_TEXT, sent.at("/messages/0/content").asText());
    }

    @Test
    void parsesUpstreamToolCall() {
        upstream.stubFor(post(urlEqualTo("/v1/chat/completions")).willReturn(json(200, """
                {"id": "chatcmpl-7Qx", "object": "chat.completion", "created": 1763700000,
                 "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_1a2b",
                 "choices": [{"index": 0, "logprobs": null, "finish_reason": "tool_calls",
                   "message": {"role": "assistant", "content": null, "refusal": null,
                     "tool_calls": [{"id": "call_9x2", "type": "function",
                       "function": {"name": "get_weather", "arguments": "{\\"city\\":\\"Paris\\"}"}}]}}],
                 "usage": {"prompt_tokens": 85, "completion_tokens": 18, "total_tokens": 103}}
                """)));

        ChatCompletion completion = client.chat().completions().create(chat("wm-chat").build());

        ChatCompletion.Choice choice = completion.choices().get(0);
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason());
        ChatCompletionMessageFunctionToolCall call = choice.message().toolCalls().orElseThrow().get(0).asFunction();
        assertEquals("call_9x2", call.id());
        assertEquals("get_weather", call.function().name());
        assertEquals("{\"city\":\"Paris\"}", call.function().arguments());
    }

    @Test
    void streamsUpstreamChunksWithUsage() throws Exception {
        upstream.stubFor(post(urlEqualTo("/v1/chat/completions")).willReturn(aResponse()
                .withStatus(200)
                .withHeader("content-type", "text/event-stream")
                .withBody(event("\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
                                + "\"finish_reason\":null}],\"usage\":null}")
                          + event("\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Sunny\"},"
                                  + "\"finish_reason\":null}],\"usage\":null}")
                          + event("\"choices\":[{\"index\":0,\"delta\":{\"content\":\" in Paris\"},"
                                  + "\"finish_reason\":null}],\"usage\":null}")
                          + event("\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
                                  + "\"usage\":null}")
                          + event("\"choices\":[],\"usage\":{\"prompt_tokens\":85,\"completion_tokens\":4,"
                                  + "\"total_tokens\":89}}")
                          + "data: [DONE]\n\n")
                .withChunkedDribbleDelay(3, 30)));
        ChatCompletionCreateParams params = chat("wm-chat")
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
                .build();

        List<ChatCompletionChunk> chunks = stream(params);

        assertEquals(5, chunks.size());
        assertEquals("Sunny in Paris", deltas(chunks));
        CompletionUsage usage = chunks.get(4).usage().orElseThrow();
        assertEquals(85, usage.promptTokens());
        assertEquals(4, usage.completionTokens());
        assertEquals(89, usage.totalTokens());
        JsonNode sent = JSON.readTree(onlyRequest("/v1/chat/completions").getBody());
        assertTrue(sent.get("stream").asBoolean());
        assertTrue(sent.at("/stream_options/include_usage").asBoolean());
    }

    @Test
    void parsesUpstreamEmbeddings() {
        upstream.stubFor(post(urlEqualTo("/v1/embeddings")).willReturn(json(200, """
                {"object": "list", "model": "text-embedding-3-small",
                 "data": [{"object": "embedding", "index": 0, "embedding": [0.0123, -0.0456]},
                          {"object": "embedding", "index": 1, "embedding": [0.0789, 0.0012]}],
                 "usage": {"prompt_tokens": 6, "total_tokens": 6}}
                """)));
        EmbeddingCreateParams params = EmbeddingCreateParams.builder()
                .model("wm-embedding")
                .inputOfArrayOfStrings(List.of("first text", "second text"))
                .build();

        CreateEmbeddingResponse response = client.embeddings().create(params);

        assertEquals(2, response.data().size());
        assertEquals(List.of(0.0123f, -0.0456f), response.data().get(0).embedding());
        assertEquals(List.of(0.0789f, 0.0012f), response.data().get(1).embedding());
        assertEquals(6, response.usage().totalTokens());
    }

    @Test
    void throwsRateLimitExceptionWithRetryAfterWhenTheOnlyKeyIsRateLimited() {
        upstream.stubFor(post(urlEqualTo("/limited/v1/chat/completions")).willReturn(json(429, """
                {"error": {"message": "Rate limit reached for gpt-4o-mini in organization org-abc on requests per \
                min (RPM): Limit 3, Used 3, Requested 1.", "type": "requests", "param": null, \
                "code": "rate_limit_exceeded"}}
                """).withHeader("retry-after", "1")));
        ChatCompletionCreateParams params = chat("wm-limited").build();

        RateLimitException e = assertThrows(RateLimitException.class,
                                            () -> client.chat().completions().create(params));

        assertEquals(429, e.statusCode());
        assertEquals(Optional.of("all_keys_exhausted"), e.code());
        assertEquals(List.of("1"), e.headers().values("retry-after"));
        assertTrue(e.getMessage().contains("provider 'wm-limited' (key k1 cooling"), e.getMessage());
        assertEquals(1, upstream.findAll(postRequestedFor(urlEqualTo("/limited/v1/chat/completions"))).size());
    }

    private static ChatCompletionCreateParams.Builder chat(String model) {
        return ChatCompletionCreateParams.builder().model(model).addUserMessage(USER_TEXT);
    }

    private static List<ChatCompletionChunk> stream(ChatCompletionCreateParams params) {
        try (StreamResponse<ChatCompletionChunk> response = client.chat().completions().createStreaming(params)) {
            return response.stream().toList();
        }
    }

    private static String deltas(List<ChatCompletionChunk> chunks) {
        return chunks.stream()
                .flatMap(c -> c.choices().stream())
                .map(choice -> choice.delta().content().orElse(""))
                .collect(Collectors.joining());
    }

    private static String event(String rest) {
        return "data: " + CHUNK_HEAD + rest + "\n\n";
    }

    private static ResponseDefinitionBuilder json(int status, String body) {
        return aResponse().withStatus(status).withHeader("content-type", "application/json").withBody(body);
    }

    private static LoggedRequest onlyRequest(String path) {
        List<LoggedRequest> requests = upstream.findAll(postRequestedFor(urlEqualTo(path)));
        assertEquals(1, requests.size(), () -> "upstream requests: " + requests);
        assertFalse(requests.get(0).getHeader("Authorization").contains("unused"),
                    "the SDK's api key must not reach the provider");
        return requests.get(0);
    }
}
