package dev.detour.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
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
import com.openai.errors.BadRequestException;
import com.openai.errors.OpenAIServiceException;
import com.openai.errors.RateLimitException;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionUsage;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import dev.detour.server.testing.TestGateway;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway in front of a WireMock-simulated Azure OpenAI resource, with the official OpenAI Java SDK as the
 * client: deployment paths, {@code api-version}, Azure's auth header, the prompt-filter chunk skipped from streams,
 * and errors that keep their status.
 */
class AzureIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String KEY = "0123456789abcdef0123456789abcdef";
    private static final String CHAT = "/openai/deployments/prod-4o-mini/chat/completions";
    private static final String FILTER = "{\"hate\":{\"filtered\":false,\"severity\":\"safe\"},"
                                         + "\"self_harm\":{\"filtered\":false,\"severity\":\"safe\"},"
                                         + "\"sexual\":{\"filtered\":false,\"severity\":\"safe\"},"
                                         + "\"violence\":{\"filtered\":false,\"severity\":\"safe\"}}";
    private static final String CHUNK_TAIL = "\"created\":1763700000,\"id\":\"chatcmpl-AZ1\","
                                             + "\"model\":\"gpt-4o-mini-2024-07-18\","
                                             + "\"object\":\"chat.completion.chunk\",\"system_fingerprint\":\"fp_b7\"";
    private static final String PROMPT_FILTER_CHUNK = "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\","
            + "\"object\":\"\",\"prompt_filter_results\":[{\"prompt_index\":0,\"content_filter_results\":" + FILTER
            + "}]}\n\n";

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
                  azure:
                    type: azure
                    base-url: http://127.0.0.1:%1$d/openai
                    keys:
                      - id: eastus
                        value: %2$s
                  entra:
                    type: azure
                    base-url: http://127.0.0.1:%1$d/openai
                    options:
                      auth: bearer
                      api-version: 2025-04-01-preview
                    keys:
                      - id: token
                        value: eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.test
                  limited:
                    type: azure
                    base-url: http://127.0.0.1:%1$d/openai
                    keys:
                      - id: limited
                        value: %2$s
                  revoked:
                    type: azure
                    base-url: http://127.0.0.1:%1$d/openai
                    keys:
                      - id: revoked
                        value: %2$s
                  raw:
                    type: openai
                    base-url: http://127.0.0.1:%1$d/openai/deployments/prod-4o-mini
                    keys:
                      - id: k
                        value: sk-raw
                routes:
                  - model: chat
                    targets:
                      - provider: azure
                        model: prod-4o-mini
                  - model: embed
                    targets:
                      - provider: azure
                        model: embed-small
                  - model: entra-chat
                    targets:
                      - provider: entra
                        model: prod-4o-mini
                  - model: limited-chat
                    targets:
                      - provider: limited
                        model: prod-4o-mini
                  - model: revoked-chat
                    targets:
                      - provider: revoked
                        model: prod-4o-mini
                  - model: raw-chat
                    targets:
                      - provider: raw
                """.formatted(upstream.port(), KEY));
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
    void sendsChatToTheDeploymentWithApiKeyAndParsesAzureAnswer() throws Exception {
        upstream.stubFor(post(urlPathEqualTo(CHAT)).willReturn(json(200, """
                {"choices": [{"content_filter_results": %1$s, "finish_reason": "stop", "index": 0, "logprobs": null,
                  "message": {"content": "Sunny, 18 degrees.", "refusal": null, "role": "assistant"}}],
                 "created": 1763700000, "id": "chatcmpl-AZ1", "model": "gpt-4o-mini-2024-07-18",
                 "object": "chat.completion",
                 "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": %1$s}],
                 "system_fingerprint": "fp_b7",
                 "usage": {"completion_tokens": 7, "prompt_tokens": 85, "total_tokens": 92}}
                """.formatted(FILTER))));

        ChatCompletion completion = client.chat().completions().create(chat("chat").build());

        assertEquals("Sunny, 18 degrees.", completion.choices().get(0).message().content().orElseThrow());
        assertEquals(92, completion.usage().orElseThrow().totalTokens());
        LoggedRequest sent = only(CHAT);
        assertEquals(CHAT + "?api-version=2024-10-21", sent.getUrl());
        assertEquals(KEY, sent.getHeader("api-key"));
        assertFalse(sent.containsHeader("authorization"), "the dated API never takes Bearer <api-key>");
        JsonNode body = JSON.readTree(sent.getBodyAsString());
        assertEquals("chat", body.get("model").asText(), "the body passes through; Azure ignores its model");
    }

    @Test
    void sendsEntraTokenAsBearerWithConfiguredApiVersion() {
        upstream.stubFor(post(urlPathEqualTo(CHAT)).willReturn(json(200, minimalCompletion())));

        client.chat().completions().create(chat("entra-chat").build());

        LoggedRequest sent = only(CHAT);
        assertEquals(CHAT + "?api-version=2025-04-01-preview", sent.getUrl());
        assertEquals("Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.test", sent.getHeader("authorization"));
        assertFalse(sent.containsHeader("api-key"));
    }

    @Test
    void streamsWithoutThePromptFilterChunk() {
        upstream.stubFor(post(urlPathEqualTo(CHAT)).willReturn(sse(azureStream(false)).withChunkedDribbleDelay(5, 40)));

        List<ChatCompletionChunk> chunks = stream(chat("chat").build());

        assertEquals(4, chunks.size());
        assertTrue(chunks.stream().noneMatch(c -> c.choices().isEmpty()), "no chunk without choices");
        assertEquals("Sunny in Paris, é 😀", deltas(chunks));
        assertEquals(Optional.of(ChatCompletionChunk.Choice.FinishReason.STOP),
                     chunks.get(3).choices().get(0).finishReason());
        assertEquals("2024-10-21", only(CHAT).queryParameter("api-version").firstValue());
    }

    @Test
    void streamsTheUsageChunkWhenAskedFor() {
        upstream.stubFor(post(urlPathEqualTo(CHAT)).willReturn(sse(azureStream(true))));
        ChatCompletionCreateParams params = chat("chat")
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
                .build();

        List<ChatCompletionChunk> chunks = stream(params);

        ChatCompletionChunk last = chunks.get(chunks.size() - 1);
        assertTrue(last.choices().isEmpty());
        CompletionUsage usage = last.usage().orElseThrow();
        assertEquals(90, usage.totalTokens());
        assertEquals(1, chunks.stream().filter(c -> c.choices().isEmpty()).count(), "only the usage chunk");
    }

    @Test
    void accumulatesTheStreamIntoACompletion() {
        upstream.stubFor(post(urlPathEqualTo(CHAT)).willReturn(sse(azureStream(false))));
        ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();

        try (StreamResponse<ChatCompletionChunk> response =
                     client.chat().completions().createStreaming(chat("chat").build())) {
            response.stream().forEach(accumulator::accumulate);
        }

        ChatCompletion completion = accumulator.chatCompletion();
        assertEquals("Sunny in Paris, é 😀", completion.choices().get(0).message().content().orElseThrow());
    }

    @Test
    void sendsEmbeddingsToTheDeployment() {
        String path = "/openai/deployments/embed-small/embeddings";
        upstream.stubFor(post(urlPathEqualTo(path)).willReturn(json(200, """
                {"object": "list", "model": "text-embedding-3-small",
                 "data": [{"object": "embedding", "index": 0, "embedding": [0.0123, -0.0456]},
                          {"object": "embedding", "index": 1, "embedding": [0.0789, 0.0012]}],
                 "usage": {"prompt_tokens": 6, "total_tokens": 6}}
                """)));
        EmbeddingCreateParams params = EmbeddingCreateParams.builder()
                .model("embed")
                .inputOfArrayOfStrings(List.of("first text", "second text"))
                .build();

        CreateEmbeddingResponse response = client.embeddings().create(params);

        assertEquals(2, response.data().size());
        assertEquals(List.of(0.0789f, 0.0012f), response.data().get(1).embedding());
        assertEquals(path + "?api-version=2024-10-21", only(path).getUrl());
    }

    @Test
    void keeps429AndTheWaitAzureAskedFor() {
        upstream.stubFor(post(urlPathEqualTo(CHAT)).willReturn(json(429, """
                {"error": {"code": "429", "message": "Requests to the ChatCompletions_Create Operation under Azure \
                OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. \
                Please retry after 6 seconds."}}
                """).withHeader("retry-after", "6").withHeader("retry-after-ms", "6000")));
        // Its own provider: the 429 cools this key for the six seconds the answer asks for.
        ChatCompletionCreateParams params = chat("limited-chat").build();

        RateLimitException e = assertThrows(RateLimitException.class, () -> client.chat().completions().create(params));

        assertEquals(429, e.statusCode());
        assertEquals(List.of("6"), e.headers().values("retry-after"));
        assertEquals(1, upstream.findAll(postRequestedFor(urlPathEqualTo(CHAT))).size());
    }

    @Test
    void keepsContentFilterRejectionAs400() {
        upstream.stubFor(post(urlPathEqualTo(CHAT)).willReturn(json(400, """
                {"error": {"message": "The response was filtered due to the prompt triggering Azure OpenAI's content \
                management policy.", "type": null, "param": "prompt", "code": "content_filter", "status": 400,
                 "innererror": {"code": "ResponsibleAIPolicyViolation"}}}
                """)));
        ChatCompletionCreateParams params = chat("chat").build();

        BadRequestException e = assertThrows(BadRequestException.class,
                                             () -> client.chat().completions().create(params));

        assertEquals(Optional.of("content_filter"), e.code());
    }

    @Test
    void neverShowsTheRejectedKeyToTheClient() {
        upstream.stubFor(post(urlPathEqualTo(CHAT)).willReturn(json(401, """
                {"error": {"code": "401", "message": "Access denied due to invalid subscription key or wrong API \
                endpoint."}}
                """)));
        // Its own provider: a rejected key is disabled until an operator acts.
        ChatCompletionCreateParams params = chat("revoked-chat").build();

        OpenAIServiceException e = assertThrows(OpenAIServiceException.class,
                                                () -> client.chat().completions().create(params));

        assertTrue(e.statusCode() >= 400, "status " + e.statusCode());
        assertFalse(e.getMessage().contains(KEY), e.getMessage());
    }

    /**
     * Why the adapter filters streams: passed through untouched (here by a plain {@code openai} provider), Azure's
     * prompt-filter chunk reaches the client. The Java SDK parses and accumulates it without complaint, but client
     * code reading {@code choices().get(0)} of every chunk (the idiom of OpenAI's own examples) fails on it.
     */
    @Test
    void rawAzureStreamGivesTheSdkAChunkWithoutChoices() {
        upstream.stubFor(post(urlEqualTo(CHAT)).willReturn(sse(azureStream(false))));
        ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();

        List<ChatCompletionChunk> chunks = stream(chat("raw-chat").build());
        chunks.forEach(accumulator::accumulate);

        assertEquals(5, chunks.size());
        assertTrue(chunks.get(0).choices().isEmpty());
        assertThrows(IndexOutOfBoundsException.class, () -> chunks.get(0).choices().get(0));
        assertEquals("Sunny in Paris, é 😀",
                     accumulator.chatCompletion().choices().get(0).message().content().orElseThrow());
    }

    private static String azureStream(boolean usage) {
        String delta = "\"finish_reason\":null,\"index\":0,\"logprobs\":null}],";
        StringBuilder sb = new StringBuilder(PROMPT_FILTER_CHUNK);
        sb.append(event("{\"choices\":[{\"content_filter_results\":{},\"delta\":{\"content\":\"\",\"refusal\":null,"
                        + "\"role\":\"assistant\"}," + delta + CHUNK_TAIL + "}"));
        sb.append(event("{\"choices\":[{\"content_filter_results\":" + FILTER + ",\"delta\":{\"content\":\"Sunny\"},"
                        + delta + CHUNK_TAIL + "}"));
        sb.append(event("{\"choices\":[{\"content_filter_results\":" + FILTER
                        + ",\"delta\":{\"content\":\" in Paris, é 😀\"}," + delta + CHUNK_TAIL + "}"));
        sb.append(event("{\"choices\":[{\"content_filter_results\":{},\"delta\":{},\"finish_reason\":\"stop\","
                        + "\"index\":0,\"logprobs\":null}]," + CHUNK_TAIL + (usage ? ",\"usage\":null" : "") + "}"));
        if (usage) {
            sb.append(event("{\"choices\":[]," + CHUNK_TAIL + ",\"usage\":{\"completion_tokens\":5,"
                            + "\"prompt_tokens\":85,\"total_tokens\":90}}"));
        }
        return sb.append("data: [DONE]\n\n").toString();
    }

    private static String event(String json) {
        return "data: " + json + "\n\n";
    }

    private static String minimalCompletion() {
        return "{\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,\"message\":{\"content\":\"ok\",\"role\":"
               + "\"assistant\"}}],\"created\":1763700000,\"id\":\"chatcmpl-1\",\"model\":\"gpt-4o-mini\","
               + "\"object\":\"chat.completion\"}";
    }

    private static ChatCompletionCreateParams.Builder chat(String model) {
        return ChatCompletionCreateParams.builder().model(model).addUserMessage("Weather in Paris?");
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

    private static LoggedRequest only(String path) {
        List<LoggedRequest> requests = upstream.findAll(postRequestedFor(urlPathEqualTo(path)));
        assertEquals(1, requests.size(), "requests to " + path);
        return requests.get(0);
    }

    private static ResponseDefinitionBuilder json(int status, String body) {
        return aResponse().withStatus(status).withHeader("content-type", "application/json").withBody(body);
    }

    private static ResponseDefinitionBuilder sse(String body) {
        return aResponse().withStatus(200).withHeader("content-type", "text/event-stream").withBody(body);
    }
}
