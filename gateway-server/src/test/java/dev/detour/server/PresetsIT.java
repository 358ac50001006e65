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
import com.openai.errors.BadRequestException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.detour.server.testing.TestGateway;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * OpenAI-compatible presets in front of WireMock, with the OpenAI Java SDK as the client: the fields a host
 * refuses are rewritten or refused, and an OpenRouter error reported in-band before any content fails over.
 */
class PresetsIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHUNK = "{\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\",\"created\":1763700000,"
                                        + "\"model\":\"m\",";

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
                  mistral:
                    type: mistral
                    base-url: http://127.0.0.1:%1$d/mistral/v1
                    keys: [{id: m1, value: mistral-key-1}]
                  groq:
                    type: groq
                    base-url: http://127.0.0.1:%1$d/groq/openai/v1
                    keys: [{id: g1, value: gsk_key_1}]
                  openrouter:
                    type: openrouter
                    base-url: http://127.0.0.1:%1$d/openrouter/api/v1
                    keys: [{id: o1, value: sk-or-v1-key-1}]
                  backup:
                    type: openai
                    base-url: http://127.0.0.1:%1$d/backup/v1
                    keys: [{id: b1, value: sk-backup-1}]
                routes:
                  - model: small
                    targets: [{provider: mistral, model: mistral-small-latest}]
                  - model: fast
                    targets: [{provider: groq, model: llama-3.3-70b-versatile}]
                  - model: routed
                    targets:
                      - provider: openrouter
                        model: openai/gpt-4o-mini
                      - provider: backup
                        model: gpt-4o-mini
                """.formatted(upstream.port()));
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
    void rewritesSeedAndTokenLimitForMistral() throws Exception {
        upstream.stubFor(post(urlEqualTo("/mistral/v1/chat/completions")).willReturn(json(200, completion("Bonjour"))));
        ChatCompletionCreateParams params = chat("small").seed(42).maxCompletionTokens(64).user("u-1").build();

        ChatCompletion completion = client.chat().completions().create(params);

        assertEquals("Bonjour", completion.choices().get(0).message().content().orElseThrow());
        JsonNode sent = JSON.readTree(only("/mistral/v1/chat/completions").getBodyAsString());
        assertEquals("mistral-small-latest", sent.get("model").asText());
        assertEquals(42, sent.get("random_seed").asInt());
        assertEquals(64, sent.get("max_tokens").asInt());
        assertFalse(sent.has("seed") || sent.has("max_completion_tokens") || sent.has("user"), sent.toString());
        assertEquals("Bearer mistral-key-1", only("/mistral/v1/chat/completions").getHeader("authorization"));
    }

    @Test
    void sendsPlainMistralBodyAsTheClientWroteIt() throws Exception {
        upstream.stubFor(post(urlEqualTo("/mistral/v1/chat/completions")).willReturn(json(200, completion("Oui"))));

        client.chat().completions().create(chat("small").temperature(0.5).build());

        JsonNode sent = JSON.readTree(only("/mistral/v1/chat/completions").getBodyAsString());
        assertEquals("mistral-small-latest", sent.get("model").asText());
        assertEquals(0.5, sent.get("temperature").asDouble());
    }

    @Test
    void dropsLogprobsForGroq() throws Exception {
        upstream.stubFor(post(urlEqualTo("/groq/openai/v1/chat/completions")).willReturn(json(200, completion("Hi"))));

        client.chat().completions().create(chat("fast").logprobs(true).topLogprobs(2).build());

        JsonNode sent = JSON.readTree(only("/groq/openai/v1/chat/completions").getBodyAsString());
        assertFalse(sent.has("logprobs") || sent.has("top_logprobs"), sent.toString());
    }

    @Test
    void refusesSeveralChoicesForGroqWithoutCallingIt() {
        ChatCompletionCreateParams params = chat("fast").n(2).build();

        BadRequestException e = assertThrows(BadRequestException.class,
                                             () -> client.chat().completions().create(params));

        assertEquals(Optional.of("n"), e.param());
        assertTrue(upstream.findAll(postRequestedFor(urlEqualTo("/groq/openai/v1/chat/completions"))).isEmpty());
    }

    @Test
    void failsOverWhenOpenRouterReportsAnErrorBeforeContent() {
        upstream.stubFor(post(urlEqualTo("/openrouter/api/v1/chat/completions")).willReturn(sse(
                ": OPENROUTER PROCESSING\n\n: OPENROUTER PROCESSING\n\n"
                + "data: " + CHUNK + "\"error\":{\"code\":502,\"message\":\"Provider disconnected\"},"
                + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"finish_reason\":\"error\"}]}\n\n")));
        upstream.stubFor(post(urlEqualTo("/backup/v1/chat/completions")).willReturn(sse(
                "data: " + CHUNK + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Saved\"},"
                + "\"finish_reason\":null}]}\n\n"
                + "data: " + CHUNK + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
                + "data: [DONE]\n\n")));

        List<ChatCompletionChunk> chunks = stream(chat("routed").build());

        assertEquals("Saved", chunks.stream().flatMap(c -> c.choices().stream())
                .map(c -> c.delta().content().orElse("")).collect(Collectors.joining()));
        assertEquals(1, upstream.findAll(postRequestedFor(urlEqualTo("/openrouter/api/v1/chat/completions"))).size());
    }

    @Test
    void relaysOpenRouterStreamWithoutItsLeadingComments() {
        upstream.stubFor(post(urlEqualTo("/openrouter/api/v1/chat/completions")).willReturn(sse(
                ": OPENROUTER PROCESSING\n\n"
                + "data: " + CHUNK + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},"
                + "\"finish_reason\":null}]}\n\n"
                + ": OPENROUTER PROCESSING\n\n"
                + "data: " + CHUNK + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
                + "data: [DONE]\n\n").withChunkedDribbleDelay(4, 40)));

        List<ChatCompletionChunk> chunks = stream(chat("routed").build());

        assertEquals(2, chunks.size());
        assertEquals(Optional.of("Hi"), chunks.get(0).choices().get(0).delta().content());
    }

    private static String completion(String text) {
        return "{\"id\":\"c-1\",\"object\":\"chat.completion\",\"created\":1763700000,\"model\":\"m\","
               + "\"choices\":[{\"index\":0,\"finish_reason\":\"stop\",\"message\":{\"role\":\"assistant\","
               + "\"content\":\"" + text + "\"}}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,"
               + "\"total_tokens\":6}}";
    }

    private static ChatCompletionCreateParams.Builder chat(String model) {
        return ChatCompletionCreateParams.builder().model(model).addUserMessage("hello");
    }

    private static List<ChatCompletionChunk> stream(ChatCompletionCreateParams params) {
        try (StreamResponse<ChatCompletionChunk> response = client.chat().completions().createStreaming(params)) {
            return response.stream().toList();
        }
    }

    private static LoggedRequest only(String path) {
        List<LoggedRequest> requests = upstream.findAll(postRequestedFor(urlEqualTo(path)));
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
