package dev.detour.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.detour.server.testing.OpenAiSpec;
import dev.detour.server.testing.TestGateway;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Detour against OpenAI's own contract, the official OpenAPI description: every body an OpenAI-compatible upstream
 * receives from Detour (WireMock records them) must be a valid {@code CreateChatCompletionRequest},
 * {@code CreateCompletionRequest} or {@code CreateEmbeddingRequest}, including the bodies Detour rewrites (a route
 * mapping the model name, a target's {@code params}, the Groq and Mistral presets), and every answer Detour gives
 * its clients (from the mock provider, and translated from Anthropic and Gemini played by WireMock) must be a valid
 * response, chunk, model list or error. {@link OpenAiSpec} explains how the spec is read; each exception to a
 * literal reading made here is commented where it is made.
 *
 * <p>Every client request is itself checked against the spec first, so a failure always points at Detour.
 */
class OpenAiContractIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    // --- client requests: representative, and valid per the spec (checked in clientRequestsAreValid) ---

    private static final String CHAT_TOOLS = """
            {"model": "MODEL", "messages": [
               {"role": "system", "content": "Answer briefly."},
               {"role": "user", "content": "Weather in Paris?", "name": "alice"},
               {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                  "function": {"name": "get_weather", "arguments": "{\\"city\\":\\"Paris\\"}"}}]},
               {"role": "tool", "tool_call_id": "call_1", "content": "{\\"temp_c\\":18}"},
               {"role": "user", "content": "And tomorrow?"}],
             "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Current weather",
               "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
               "strict": false}}],
             "tool_choice": "auto", "parallel_tool_calls": true, "temperature": 0.7, "top_p": 1,
             "max_completion_tokens": 200, "seed": 42, "user": "tenant-42", "logprobs": true, "top_logprobs": 2,
             "logit_bias": {"1734": -100}, "presence_penalty": 0.1, "frequency_penalty": 0.1, "n": 1,
             "stop": ["END"], "store": false, "metadata": {"team": "search"}}
            """;
    private static final String CHAT_IMAGES = """
            {"model": "MODEL", "messages": [{"role": "user", "content": [
               {"type": "text", "text": "What is in these images?"},
               {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "low"}},
               {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "auto"}}]}],
             "max_tokens": 300}
            """;
    private static final String CHAT_JSON_SCHEMA = """
            {"model": "MODEL", "messages": [
               {"role": "developer", "content": "Extract the city."},
               {"role": "user", "content": [{"type": "text", "text": "I live in Paris."}]}],
             "response_format": {"type": "json_schema", "json_schema": {"name": "city", "strict": true,
               "schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                          "additionalProperties": false}}}}
            """;
    private static final String CHAT_STREAM = """
            {"model": "MODEL", "messages": [{"role": "user", "content": "Say hi"}],
             "stream": true, "stream_options": {"include_usage": true}, "max_completion_tokens": 50}
            """;
    private static final String COMPLETION = """
            {"model": "MODEL", "prompt": "Say this is a test", "max_tokens": 16, "temperature": 0, "stop": "\\n",
             "n": 1, "echo": false, "logprobs": null, "user": "tenant-42"}
            """;
    private static final String EMBEDDING = """
            {"model": "MODEL", "input": ["first text", "second text"], "encoding_format": "float",
             "dimensions": 2, "user": "tenant-42"}
            """;

    // --- what WireMock answers as an OpenAI-compatible upstream: valid per the spec ---

    private static final String OPENAI_CHAT = """
            {"id": "chatcmpl-B9MHD", "object": "chat.completion", "created": 1763700000, "model": "gpt-4o-2024-08-06",
             "choices": [{"index": 0, "message": {"role": "assistant", "content": "Sunny.", "refusal": null,
               "annotations": []}, "logprobs": null, "finish_reason": "stop"}],
             "usage": {"prompt_tokens": 19, "completion_tokens": 2, "total_tokens": 21,
               "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
               "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                 "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
             "service_tier": "default", "system_fingerprint": "fp_fc9f1d7035"}
            """;
    private static final String OPENAI_CHUNK = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
                                               + "\"created\":1763700000,\"model\":\"gpt-4o-mini\",";
    private static final String OPENAI_STREAM =
            "data: " + OPENAI_CHUNK + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\","
            + "\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
            + "data: " + OPENAI_CHUNK + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"logprobs\":null,"
            + "\"finish_reason\":null}],\"usage\":null}\n\n"
            + "data: " + OPENAI_CHUNK + "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,"
            + "\"finish_reason\":\"stop\"}],\"usage\":null}\n\n"
            + "data: " + OPENAI_CHUNK + "\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":1,"
            + "\"total_tokens\":10}}\n\n"
            + "data: [DONE]\n\n";
    private static final String OPENAI_COMPLETION = """
            {"id": "cmpl-1", "object": "text_completion", "created": 1763700000, "model": "gpt-3.5-turbo-instruct",
             "choices": [{"text": "This is a test.", "index": 0, "logprobs": null, "finish_reason": "stop"}],
             "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}}
            """;
    private static final String OPENAI_EMBEDDINGS = """
            {"object": "list", "model": "text-embedding-3-small",
             "data": [{"object": "embedding", "index": 0, "embedding": [0.0023, -0.0093]},
                      {"object": "embedding", "index": 1, "embedding": [0.0112, 0.0051]}],
             "usage": {"prompt_tokens": 4, "total_tokens": 4}}
            """;

    private static WireMockServer upstream;
    private static TestGateway gateway;

    @BeforeAll
    static void start() {
        upstream = new WireMockServer(wireMockConfig().dynamicPort());
        upstream.start();
        stubOpenAiCompatible();
        stubAnthropic();
        stubGemini();
        gateway = TestGateway.start("""
                upstream:
                  timeouts: {connect: 2s, first-byte: 5s, idle: 5s, total: 10s}
                providers:
                  openai:
                    type: openai
                    base-url: %1$s/openai/v1
                    keys: [{id: o1, value: sk-contract-1}]
                  groq:
                    type: groq
                    base-url: %1$s/groq/openai/v1
                    keys: [{id: g1, value: gsk_contract_1}]
                  mistral:
                    type: mistral
                    base-url: %1$s/mistral/v1
                    keys: [{id: m1, value: mistral-contract-1}]
                  azure:
                    type: azure
                    base-url: %1$s/azure/openai
                    keys: [{id: a1, value: azure-contract-1}]
                  local:
                    type: mock
                  claude:
                    type: anthropic
                    base-url: %1$s/anthropic/v1
                    keys: [{id: c1, value: sk-ant-contract-1}]
                  claude-busy:
                    type: anthropic
                    base-url: %1$s/anthropic-busy/v1
                    keys: [{id: cb1, value: sk-ant-contract-2}]
                  gemini:
                    type: gemini
                    base-url: %1$s/gemini/v1beta
                    keys: [{id: ge1, value: AIzaContract-000000000000000000000000000}]
                  gemini-limited:
                    type: gemini
                    base-url: %1$s/gemini-limited/v1beta
                    keys: [{id: gl1, value: AIzaContract-000000000000000000000000001}]
                  nowhere:
                    type: openai
                    base-url: http://127.0.0.1:%2$d/v1
                    keys: [{id: n1, value: sk-nowhere-1}]
                models:
                  - {family: openai, id: tiny-model, context-window: 50, max-output-tokens: 10}
                routes:
                  - model: gpt-4o-mini
                    targets: [{provider: openai}]
                  - model: alias
                    targets: [{provider: openai, model: gpt-4o-2024-08-06}]
                  - model: tuned
                    targets:
                      - provider: openai
                        model: gpt-4o-mini
                        params: {temperature: 0.2, max_completion_tokens: 300, seed: 7, parallel_tool_calls: false,
                                 metadata: {route: tuned}}
                  - model: groq-llama
                    targets: [{provider: groq, model: llama-3.3-70b-versatile}]
                  - model: mistral-small
                    targets: [{provider: mistral, model: mistral-small-latest}]
                  - model: azure-4o
                    targets: [{provider: azure, model: prod-4o}]
                  - model: gpt-3.5-turbo-instruct
                    targets: [{provider: openai}]
                  - model: tuned-instruct
                    targets:
                      - {provider: openai, model: gpt-3.5-turbo-instruct, params: {temperature: 0.2, max_tokens: 32}}
                  - model: text-embedding-3-small
                    targets: [{provider: openai}]
                  - model: mistral-embed
                    targets: [{provider: mistral}]
                  - model: mock-4o
                    targets: [{provider: local, model: gpt-4o-mini}]
                  - model: claude
                    targets: [{provider: claude, model: claude-sonnet-4-5}]
                  - model: claude-busy
                    retry-on: []
                    targets: [{provider: claude-busy, model: claude-sonnet-4-5}]
                  - model: flash
                    targets: [{provider: gemini, model: gemini-2.5-flash}]
                  - model: gemini-embed
                    targets: [{provider: gemini, model: gemini-embedding-001}]
                  - model: flash-limited
                    retry-on: []
                    targets: [{provider: gemini-limited, model: gemini-2.5-flash}]
                  - model: tiny
                    targets: [{provider: openai, model: tiny-model}]
                  - model: unreachable
                    targets: [{provider: nowhere, model: gpt-4o-mini}]
                """.formatted("http://127.0.0.1:" + upstream.port(), closedPort()));
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (upstream != null) {
            upstream.stop();
        }
    }

    @BeforeEach
    void forgetRequests() {
        upstream.resetRequests();
    }

    @Test
    void specRejectsWhatAnOpenAiClientWouldNot() throws Exception {
        // Without this, a validator that accepted everything would pass every test below.
        JsonNode chunk = JSON.readTree("{\"id\": \"c\", \"object\": \"chat.completion.chunk\", \"created\": 1, "
                                       + "\"model\": \"m\", \"choices\": [{\"index\": 0, \"delta\": {}, "
                                       + "\"finish_reason\": \"done\"}]}");
        JsonNode answer = JSON.readTree("{\"id\": \"c\", \"object\": \"chat.completion\", \"created\": 1, "
                                        + "\"model\": \"m\", \"choices\": [{\"index\": 0, \"finish_reason\": "
                                        + "\"stop\", \"logprobs\": null, \"message\": {\"role\": \"assistant\", "
                                        + "\"content\": \"hi\"}}]}");
        JsonNode error = JSON.readTree("{\"error\": {\"message\": \"m\", \"type\": \"t\"}}");
        JsonNode request = JSON.readTree("{\"model\": \"m\", \"messages\": [{\"role\": \"wizard\", "
                                         + "\"content\": \"hi\"}], \"temperature\": 3}");

        assertFalse(OpenAiSpec.violations("CreateChatCompletionStreamResponse", chunk).isEmpty(), "unknown reason");
        assertFalse(OpenAiSpec.violations("CreateChatCompletionResponse", answer).isEmpty(), "no refusal: null");
        assertFalse(OpenAiSpec.violations("ErrorResponse", error).isEmpty(), "no param and code");
        List<String> violations = OpenAiSpec.violations("CreateChatCompletionRequest", request);
        assertTrue(violations.stream().anyMatch(v -> v.startsWith("/messages/0")), "bad role: " + violations);
        assertTrue(violations.stream().anyMatch(v -> v.startsWith("/temperature")), "above 2: " + violations);
    }

    // --- requests Detour sends upstream ---

    static Stream<Arguments> clientRequests() {
        return Stream.of(
                Arguments.of("CreateChatCompletionRequest", CHAT_TOOLS),
                Arguments.of("CreateChatCompletionRequest", CHAT_IMAGES),
                Arguments.of("CreateChatCompletionRequest", CHAT_JSON_SCHEMA),
                Arguments.of("CreateChatCompletionRequest", CHAT_STREAM),
                Arguments.of("CreateCompletionRequest", COMPLETION),
                Arguments.of("CreateEmbeddingRequest", EMBEDDING));
    }

    @ParameterizedTest(name = "{0} #{index}")
    @MethodSource("clientRequests")
    void clientRequestsAreValid(String schema, String body) throws Exception {
        assertValid(schema, JSON.readTree(body.replace("MODEL", "gpt-4o-mini")), "the test's own client request");
    }

    static Stream<Arguments> chatRoutes() {
        List<Arguments> cases = new ArrayList<>();
        // route, the path the upstream sees
        String[][] routes = {
            {"gpt-4o-mini", "/openai/v1/chat/completions"},
            {"alias", "/openai/v1/chat/completions"},
            {"tuned", "/openai/v1/chat/completions"},
            {"groq-llama", "/groq/openai/v1/chat/completions"},
            {"mistral-small", "/mistral/v1/chat/completions"},
            {"azure-4o", "/azure/openai/deployments/prod-4o/chat/completions"},
        };
        String[][] bodies = {{"tools", CHAT_TOOLS}, {"images", CHAT_IMAGES}, {"json-schema", CHAT_JSON_SCHEMA},
                             {"stream", CHAT_STREAM}};
        for (String[] route : routes) {
            for (String[] body : bodies) {
                cases.add(Arguments.of(route[0], body[0], body[1], route[1]));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("chatRoutes")
    void sendsSpecValidChatRequestsUpstream(String route, String name, String body, String upstreamPath)
            throws Exception {
        HttpResponse<String> response = gateway.postJson("/v1/chat/completions", body.replace("MODEL", route));

        assertEquals(200, response.statusCode(), response.body());
        JsonNode sent = JSON.readTree(onlyRequest(upstreamPath).getBodyAsString());
        assertValid("CreateChatCompletionRequest", sent, "the body " + route + " sent upstream");
        assertRewrites(route, body, sent);
        if (body.contains("\"stream\": true")) {
            assertValidStream(response);
        } else {
            assertValid("CreateChatCompletionResponse", JSON.readTree(response.body()), "the relayed answer");
        }
    }

    @Test
    void sendsSpecValidCompletionRequestsUpstream() throws Exception {
        for (String route : List.of("gpt-3.5-turbo-instruct", "tuned-instruct")) {
            upstream.resetRequests();

            HttpResponse<String> response = gateway.postJson("/v1/completions", COMPLETION.replace("MODEL", route));

            assertEquals(200, response.statusCode(), response.body());
            JsonNode sent = JSON.readTree(onlyRequest("/openai/v1/completions").getBodyAsString());
            assertEquals("gpt-3.5-turbo-instruct", sent.get("model").asText());
            assertValid("CreateCompletionRequest", sent, "the completion body " + route + " sent upstream");
            assertValid("CreateCompletionResponse", JSON.readTree(response.body()), "the relayed answer");
        }
    }

    @Test
    void sendsSpecValidEmbeddingRequestsUpstream() throws Exception {
        String[][] routes = {{"text-embedding-3-small", "/openai/v1/embeddings"},
                             {"mistral-embed", "/mistral/v1/embeddings"}};
        for (String[] route : routes) {
            upstream.resetRequests();

            HttpResponse<String> response = gateway.postJson("/v1/embeddings", EMBEDDING.replace("MODEL", route[0]));

            assertEquals(200, response.statusCode(), response.body());
            assertValid("CreateEmbeddingRequest", JSON.readTree(onlyRequest(route[1]).getBodyAsString()),
                        "the embedding body " + route[0] + " sent upstream");
            assertValid("CreateEmbeddingResponse", JSON.readTree(response.body()), "the relayed answer");
        }
    }

    // --- Detour's own answers ---

    @Test
    void mockProviderAnswersMatchTheSpec() throws Exception {
        assertValid("CreateChatCompletionResponse",
                    answer("/v1/chat/completions", CHAT_TOOLS.replace("MODEL", "mock-4o")), "mock chat");
        assertValid("CreateChatCompletionResponse",
                    answer("/v1/chat/completions", CHAT_IMAGES.replace("MODEL", "mock-4o")), "mock chat with images");
        assertValidStream(gateway.postJson("/v1/chat/completions", CHAT_STREAM.replace("MODEL", "mock-4o")));
        assertValid("CreateCompletionResponse",
                    answer("/v1/completions", COMPLETION.replace("MODEL", "mock-4o")), "mock completion");
        assertValid("CreateEmbeddingResponse",
                    answer("/v1/embeddings", EMBEDDING.replace("MODEL", "mock-4o")), "mock embeddings");
    }

    @Test
    void anthropicTranslationsMatchTheSpec() throws Exception {
        assertValid("CreateChatCompletionResponse",
                    answer("/v1/chat/completions", CHAT_IMAGES.replace("MODEL", "claude")), "Anthropic text answer");
        assertValid("CreateChatCompletionResponse",
                    answer("/v1/chat/completions", CHAT_TOOLS.replace("MODEL", "claude")), "Anthropic tool_use");
        assertValidStream(gateway.postJson("/v1/chat/completions", CHAT_STREAM.replace("MODEL", "claude")));
        assertValidStream(gateway.postJson("/v1/chat/completions", CHAT_TOOLS.replace("MODEL", "claude")
                .replace("\"tool_choice\"", "\"stream\": true, \"stream_options\": {\"include_usage\": true}, "
                                            + "\"tool_choice\"")));
        assertValid("CreateCompletionResponse",
                    answer("/v1/completions", COMPLETION.replace("MODEL", "claude")), "Anthropic legacy completion");
    }

    @Test
    void geminiTranslationsMatchTheSpec() throws Exception {
        assertValid("CreateChatCompletionResponse",
                    answer("/v1/chat/completions", CHAT_IMAGES.replace("MODEL", "flash")), "Gemini text answer");
        assertValid("CreateChatCompletionResponse",
                    answer("/v1/chat/completions", CHAT_TOOLS.replace("MODEL", "flash")), "Gemini functionCall");
        assertValidStream(gateway.postJson("/v1/chat/completions", CHAT_STREAM.replace("MODEL", "flash")));
        assertValid("CreateCompletionResponse",
                    answer("/v1/completions", COMPLETION.replace("MODEL", "flash")), "Gemini legacy completion");
        assertValid("CreateEmbeddingResponse",
                    answer("/v1/embeddings", EMBEDDING.replace("MODEL", "gemini-embed")), "Gemini embeddings");
    }

    @Test
    void modelListMatchesTheSpec() throws Exception {
        HttpResponse<String> list = gateway.get("/v1/models");
        HttpResponse<String> one = gateway.get("/v1/models/alias");

        assertEquals(200, list.statusCode());
        assertValid("ListModelsResponse", JSON.readTree(list.body()), "GET /v1/models");
        assertEquals(200, one.statusCode());
        assertValid("Model", JSON.readTree(one.body()), "GET /v1/models/{model}");
    }

    @Test
    void errorBodiesMatchTheSpec() throws Exception {
        List<HttpResponse<String>> errors = List.of(
                gateway.postJson("/v1/chat/completions", CHAT_STREAM.replace("MODEL", "no-such-model")),
                gateway.postJson("/v1/chat/completions", "{\"model\": \"gpt-4o-mini\", \"messages\": ["),
                gateway.postJson("/v1/chat/completions", "{\"messages\": []}"),
                gateway.postJson("/v1/no-such-endpoint", "{}"),
                gateway.get("/v1/chat/completions"),
                gateway.get("/v1/models/no-such-model"),
                // Refused by the Anthropic translator: no structured output there.
                gateway.postJson("/v1/chat/completions", CHAT_JSON_SCHEMA.replace("MODEL", "claude")),
                // Anthropic has no embeddings.
                gateway.postJson("/v1/embeddings", EMBEDDING.replace("MODEL", "claude")),
                // Anthropic's 529 overloaded, translated.
                gateway.postJson("/v1/chat/completions", CHAT_IMAGES.replace("MODEL", "claude-busy")),
                // Gemini's 429 RESOURCE_EXHAUSTED, translated.
                gateway.postJson("/v1/chat/completions", CHAT_IMAGES.replace("MODEL", "flash-limited")),
                // The catalog's context window, checked before sending.
                gateway.postJson("/v1/chat/completions", CHAT_TOOLS.replace("MODEL", "tiny")),
                // Nothing listens there.
                gateway.postJson("/v1/chat/completions", CHAT_IMAGES.replace("MODEL", "unreachable")));

        for (HttpResponse<String> r : errors) {
            assertTrue(r.statusCode() >= 400, r.statusCode() + " " + r.body());
            assertValid("ErrorResponse", JSON.readTree(r.body()), "error " + r.statusCode() + " " + r.body());
        }
        assertEquals(List.of(404, 400, 400, 404, 405, 404, 400, 400, 503, 429, 400, 502),
                     errors.stream().map(HttpResponse::statusCode).collect(Collectors.toList()));
        assertTrue(errors.get(10).body().contains("context_length_exceeded"), errors.get(10).body());
        assertEquals(0, upstream.findAll(postRequestedFor(urlPathEqualTo("/openai/v1/chat/completions"))).size(),
                     "the context check answered without an upstream call");
    }

    // --- helpers ---

    /** Asserts that {@code sent} shows the rewrite the route makes: the rewritten body is what was validated. */
    private static void assertRewrites(String route, String clientBody, JsonNode sent) throws Exception {
        JsonNode client = JSON.readTree(clientBody.replace("MODEL", route));
        switch (route) {
            case "alias":
                assertEquals("gpt-4o-2024-08-06", sent.get("model").asText(), "model spliced");
                break;
            case "tuned":
                assertEquals("gpt-4o-mini", sent.get("model").asText());
                assertEquals(0.2, sent.get("temperature").asDouble(), "params override the client");
                assertEquals(300, sent.get("max_completion_tokens").asInt());
                assertEquals(7, sent.get("seed").asInt());
                assertEquals("tuned", sent.at("/metadata/route").asText());
                break;
            case "groq-llama":
                assertEquals("llama-3.3-70b-versatile", sent.get("model").asText());
                assertFalse(sent.has("logprobs") || sent.has("top_logprobs") || sent.has("logit_bias"),
                            "Groq refuses these: dropped " + sent);
                assertFalse(sent.toString().contains("\"name\":\"alice\""), "messages[].name dropped: " + sent);
                break;
            case "azure-4o":
                break; // the deployment is in the path; whatever the body's model says is not used
            case "mistral-small":
                assertEquals("mistral-small-latest", sent.get("model").asText());
                assertFalse(sent.has("max_completion_tokens") || sent.has("seed"), "renamed for Mistral: " + sent);
                if (client.has("seed")) {
                    assertEquals(42, sent.get("random_seed").asInt());
                }
                break;
            default:
                assertEquals(client.get("model"), sent.get("model"));
                break;
        }
    }

    private static JsonNode answer(String path, String body) throws Exception {
        HttpResponse<String> response = gateway.postJson(path, body);
        assertEquals(200, response.statusCode(), response.body());
        return JSON.readTree(response.body());
    }

    /** Asserts a 200 SSE answer whose every event is a valid chunk, ending with {@code data: [DONE]}. */
    private static void assertValidStream(HttpResponse<String> response) throws Exception {
        assertEquals(200, response.statusCode(), response.body());
        List<String> events = new ArrayList<>();
        for (String event : response.body().split("\r?\n\r?\n")) {
            if (!event.isBlank()) {
                events.add(event.strip());
            }
        }
        assertEquals("data: [DONE]", events.get(events.size() - 1), response.body());
        assertTrue(events.size() > 1, response.body());
        for (String event : events.subList(0, events.size() - 1)) {
            assertTrue(event.startsWith("data: "), event);
            assertValid("CreateChatCompletionStreamResponse", JSON.readTree(event.substring("data: ".length())),
                        "stream chunk " + event);
        }
    }

    private static void assertValid(String schema, JsonNode json, String what) {
        List<String> violations = OpenAiSpec.violations(schema, json);
        assertTrue(violations.isEmpty(), () -> what + " is not a valid " + schema + ":\n  "
                                               + String.join("\n  ", violations) + "\n" + json);
    }

    private static LoggedRequest onlyRequest(String path) {
        List<LoggedRequest> requests = upstream.findAll(postRequestedFor(urlPathEqualTo(path)));
        assertEquals(1, requests.size(), () -> "requests to " + path + ": " + upstream.getAllServeEvents().stream()
                .map(e -> e.getRequest().getUrl()).collect(Collectors.joining(", ")));
        return requests.get(0);
    }

    private static int closedPort() {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    // --- upstream stubs ---

    private static void stubOpenAiCompatible() {
        String chat = "/(openai|groq/openai|mistral)/v1/chat/completions"
                      + "|/azure/openai/deployments/[^/]+/chat/completions";
        upstream.stubFor(post(urlPathMatching(chat)).willReturn(json(200, OPENAI_CHAT)));
        upstream.stubFor(post(urlPathMatching(chat)).atPriority(1)
                                 .withRequestBody(matchingJsonPath("$[?(@.stream == true)]"))
                                 .willReturn(sse(OPENAI_STREAM)));
        upstream.stubFor(post(urlPathEqualTo("/openai/v1/completions")).willReturn(json(200, OPENAI_COMPLETION)));
        upstream.stubFor(post(urlPathMatching("/(openai|mistral)/v1/embeddings"))
                                 .willReturn(json(200, OPENAI_EMBEDDINGS)));
    }

    private static void stubAnthropic() {
        String messages = "/anthropic/v1/messages";
        upstream.stubFor(post(urlPathEqualTo(messages)).willReturn(json(200, """
                {"id": "msg_01XFD", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
                 "content": [{"type": "text", "text": "Sunny, 18 degrees."}],
                 "stop_reason": "end_turn", "stop_sequence": null,
                 "usage": {"input_tokens": 412, "output_tokens": 57, "cache_creation_input_tokens": 0,
                           "cache_read_input_tokens": 100}}
                """)));
        upstream.stubFor(post(urlPathEqualTo(messages)).atPriority(2).withRequestBody(containing("get_weather"))
                                 .willReturn(json(200, """
                {"id": "msg_02", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
                 "content": [{"type": "thinking", "thinking": "The user wants weather.", "signature": "sig"},
                   {"type": "text", "text": "Checking."},
                   {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}}],
                 "stop_reason": "tool_use", "stop_sequence": null,
                 "usage": {"input_tokens": 412, "output_tokens": 57}}
                """)));
        upstream.stubFor(post(urlPathEqualTo(messages)).atPriority(1)
                                 .withRequestBody(matchingJsonPath("$[?(@.stream == true)]"))
                                 .willReturn(sse(anthropicStream())));
        upstream.stubFor(post(urlPathEqualTo("/anthropic-busy/v1/messages")).willReturn(json(529, """
                {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
                """)));
    }

    private static String anthropicStream() {
        return event("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_03\",\"type\":\"message\","
                     + "\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],"
                     + "\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":412,"
                     + "\"output_tokens\":1}}}")
               + event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
                       + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}")
               + event("ping", "{\"type\": \"ping\"}")
               + event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
                       + "\"delta\":{\"type\":\"text_delta\",\"text\":\"Checking.\"}}")
               + event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}")
               + event("content_block_start", "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":"
                       + "{\"type\":\"tool_use\",\"id\":\"toolu_01A\",\"name\":\"get_weather\",\"input\":{}}}")
               + event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
                       + "{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\": \\\"Paris\\\"}\"}}")
               + event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}")
               + event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\","
                       + "\"stop_sequence\":null},\"usage\":{\"output_tokens\":57}}")
               + event("message_stop", "{\"type\":\"message_stop\"}");
    }

    private static void stubGemini() {
        String models = "/gemini/v1beta/models/";
        upstream.stubFor(post(urlPathEqualTo(models + "gemini-2.5-flash:generateContent")).willReturn(json(200, """
                {"candidates": [{"index": 0, "finishReason": "STOP",
                   "content": {"role": "model", "parts": [{"text": "Sunny, "}, {"text": "18 °C."}]}}],
                 "usageMetadata": {"promptTokenCount": 85, "candidatesTokenCount": 6, "thoughtsTokenCount": 4,
                   "totalTokenCount": 95},
                 "modelVersion": "gemini-2.5-flash", "responseId": "mH4gaK3U"}
                """)));
        upstream.stubFor(post(urlPathEqualTo(models + "gemini-2.5-flash:generateContent")).atPriority(1)
                                 .withRequestBody(containing("get_weather")).willReturn(json(200, """
                {"candidates": [{"index": 0, "finishReason": "STOP",
                   "content": {"role": "model", "parts": [
                     {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]}}],
                 "usageMetadata": {"promptTokenCount": 40, "candidatesTokenCount": 7, "totalTokenCount": 47},
                 "responseId": "turn1"}
                """)));
        upstream.stubFor(post(urlPathEqualTo(models + "gemini-2.5-flash:streamGenerateContent")).willReturn(sse(
                "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Sunny\"}],\"role\":\"model\"},"
                + "\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":85,\"candidatesTokenCount\":1,"
                + "\"totalTokenCount\":86},\"responseId\":\"s1\"}\r\n\r\n"
                + "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" in Paris.\"}],\"role\":\"model\"},"
                + "\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":85,"
                + "\"candidatesTokenCount\":8,\"totalTokenCount\":93},\"responseId\":\"s1\"}\r\n\r\n")));
        upstream.stubFor(post(urlPathEqualTo(models + "gemini-embedding-001:batchEmbedContents"))
                                 .willReturn(json(200, """
                {"embeddings": [{"values": [0.0123, -0.0456]}, {"values": [0.0789, 0.0012]}]}
                """)));
        upstream.stubFor(post(urlPathEqualTo("/gemini-limited/v1beta/models/gemini-2.5-flash:generateContent"))
                                 .willReturn(json(429, """
                {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED",
                  "message": "You exceeded your current quota, please check your plan and billing details.",
                  "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "26s"}]}}
                """)));
    }

    private static String event(String name, String data) {
        return "event: " + name + "\ndata: " + data + "\n\n";
    }

    private static ResponseDefinitionBuilder sse(String body) {
        return aResponse().withStatus(200).withHeader("content-type", "text/event-stream").withBody(body);
    }

    private static ResponseDefinitionBuilder json(int status, String body) {
        return aResponse().withStatus(status).withHeader("content-type", "application/json").withBody(body);
    }
}
