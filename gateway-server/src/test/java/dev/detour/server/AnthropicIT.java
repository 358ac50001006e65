package dev.detour.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.InternalServerException;
import com.openai.errors.RateLimitException;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import com.openai.models.embeddings.EmbeddingCreateParams;
import dev.detour.server.testing.TestGateway;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway in front of a WireMock-simulated Anthropic Messages API, with the official OpenAI Java SDK as the
 * client: requests are translated to {@code /v1/messages}, answers, streams and errors come back in OpenAI's shapes.
 */
class AnthropicIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MESSAGES = "/v1/messages";
    private static final String USER_TEXT = "Weather in Paris?";

    private static WireMockServer upstream;
    private static TestGateway gateway;
    private static OpenAIClient client;

    @BeforeAll
    static void start() {
        upstream = new WireMockServer(wireMockConfig().dynamicPort());
        upstream.start();
        // One provider (hence one key pool) per error scenario, so that a cooled key never leaks into another test.
        gateway = TestGateway.start("""
                upstream:
                  timeouts: {connect: 2s, first-byte: 5s, idle: 5s, total: 10s}
                providers:
                  claude:
                    type: anthropic
                    base-url: %1$s/v1
                    keys:
                      - id: k1
                        value: sk-ant-test-1
                  limited:
                    type: anthropic
                    base-url: %1$s/limited/v1
                    keys:
                      - id: l1
                        value: sk-ant-limited-1
                  busy:
                    type: anthropic
                    base-url: %1$s/busy/v1
                    options:
                      version: "2024-10-22"
                    keys:
                      - id: b1
                        value: sk-ant-busy-1
                  flaky:
                    type: anthropic
                    base-url: %1$s/flaky/v1
                    keys:
                      - id: f1
                        value: sk-ant-flaky-1
                routes:
                  - model: claude
                    targets:
                      - provider: claude
                        model: claude-sonnet-4-5
                  - model: claude-limited
                    targets:
                      - provider: limited
                        model: claude-sonnet-4-5
                  - model: claude-busy
                    targets:
                      - provider: busy
                        model: claude-sonnet-4-5
                  - model: claude-fallback
                    targets:
                      - provider: flaky
                        model: claude-opus-4-1
                      - provider: claude
                        model: claude-sonnet-4-5
                """.formatted("http://127.0.0.1:" + upstream.port()));
        client = OpenAIOkHttpClient.builder()
                .baseUrl(gateway.baseUrl() + "/v1")
                .apiKey("sdk-key-not-for-upstream")
                .maxRetries(0)
                .timeout(Duration.ofSeconds(10))
                .build();
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
    void translatesChatToMessagesAndAnswerToChatCompletion() throws Exception {
        upstream.stubFor(post(urlEqualTo(MESSAGES)).willReturn(json(200, """
                {"id": "msg_01XFD", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
                 "content": [{"type": "text", "text": "Sunny, 18 degrees."}],
                 "stop_reason": "end_turn", "stop_sequence": null,
                 "usage": {"input_tokens": 412, "output_tokens": 57, "cache_creation_input_tokens": 0,
                           "cache_read_input_tokens": 100}}
                """).withHeader("request-id", "req_011CSL")));
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder()
                .model("claude")
                .addSystemMessage("Answer briefly.")
                .addUserMessage(USER_TEXT)
                .temperature(1.6)
                .build();

        ChatCompletion completion = client.chat().completions().create(params);

        assertEquals("chatcmpl-msg_01XFD", completion.id());
        assertEquals("claude", completion.model(), "the model the client asked for (providers.md 9.2)");
        assertEquals("Sunny, 18 degrees.", completion.choices().get(0).message().content().orElseThrow());
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, completion.choices().get(0).finishReason());
        CompletionUsage usage = completion.usage().orElseThrow();
        assertEquals(512, usage.promptTokens(), "input plus cached tokens");
        assertEquals(57, usage.completionTokens());
        assertEquals(569, usage.totalTokens());
        LoggedRequest sent = onlyRequest(MESSAGES);
        assertEquals("sk-ant-test-1", sent.getHeader("x-api-key"));
        assertEquals("2023-06-01", sent.getHeader("anthropic-version"));
        assertNull(sent.getHeader("Authorization"), "the SDK's key must not reach the provider");
        JsonNode body = JSON.readTree(sent.getBody());
        assertEquals("claude-sonnet-4-5", body.get("model").asText());
        assertEquals(8192, body.get("max_tokens").asInt(),
                     "Anthropic requires max_tokens: the catalog's output cap of claude-sonnet-4-5, capped at 8192");
        assertEquals("Answer briefly.", body.get("system").asText());
        assertEquals(USER_TEXT, body.at("/messages/0/content").asText());
        assertEquals(1.0, body.get("temperature").asDouble(), "clamped to Anthropic's range");
    }

    @Test
    void roundTripsToolCallThroughTheSdk() throws Exception {
        upstream.stubFor(post(urlEqualTo(MESSAGES)).willReturn(json(200, """
                {"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
                 "content": [{"type": "text", "text": "Checking."},
                   {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}}],
                 "stop_reason": "tool_use", "stop_sequence": null,
                 "usage": {"input_tokens": 412, "output_tokens": 57}}
                """)));
        upstream.stubFor(post(urlEqualTo(MESSAGES)).withRequestBody(containing("tool_result")).atPriority(1)
                                 .willReturn(json(200, """
                {"id": "msg_02", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
                 "content": [{"type": "text", "text": "It is 18 degrees in Paris."}],
                 "stop_reason": "end_turn", "stop_sequence": null,
                 "usage": {"input_tokens": 500, "output_tokens": 12}}
                """)));

        ChatCompletion first = client.chat().completions().create(withTools().build());

        ChatCompletion.Choice choice = first.choices().get(0);
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason());
        ChatCompletionMessageFunctionToolCall call = choice.message().toolCalls().orElseThrow().get(0).asFunction();
        assertEquals("toolu_01A", call.id());
        assertEquals("get_weather", call.function().name());
        assertEquals("{\"city\":\"Paris\"}", call.function().arguments());
        JsonNode firstSent = JSON.readTree(upstream.findAll(postRequestedFor(urlEqualTo(MESSAGES))).get(0).getBody());
        assertEquals("get_weather", firstSent.at("/tools/0/name").asText());
        assertEquals("object", firstSent.at("/tools/0/input_schema/type").asText());
        assertNull(firstSent.get("tool_choice"), "no choice given: Anthropic defaults to auto");

        ChatCompletion second = client.chat().completions().create(followUp(choice.message(), call).build());

        assertEquals("It is 18 degrees in Paris.", second.choices().get(0).message().content().orElseThrow());
        assertToolResultSent();
    }

    @Test
    void streamsToolCallThatTheSdkAccumulates() throws Exception {
        upstream.stubFor(post(urlEqualTo(MESSAGES)).willReturn(sse(
                messageStart("msg_01")
                + event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
                                               + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}")
                + event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
                                               + "\"delta\":{\"type\":\"text_delta\",\"text\":\"Checking.\"}}")
                + event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}")
                + event("ping", "{\"type\": \"ping\"}")
                + event("content_block_start", "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":"
                        + "{\"type\":\"tool_use\",\"id\":\"toolu_01A\",\"name\":\"get_weather\",\"input\":{}}}")
                + inputJson(1, "")
                + inputJson(1, "{\\\"city\\\": ")
                + inputJson(1, "\\\"Par")
                + inputJson(1, "is\\\"}")
                + event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}")
                + messageEnd("tool_use", 57))));
        upstream.stubFor(post(urlEqualTo(MESSAGES)).withRequestBody(containing("tool_result")).atPriority(1)
                                 .willReturn(sse(messageStart("msg_02")
                + event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
                                               + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}")
                + event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
                                               + "\"delta\":{\"type\":\"text_delta\",\"text\":\"18 degrees \"}}")
                + event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
                                               + "\"delta\":{\"type\":\"text_delta\",\"text\":\"in Paris.\"}}")
                + event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}")
                + messageEnd("end_turn", 9))));

        ChatCompletion first = accumulate(withTools()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build());

        ChatCompletion.Choice choice = first.choices().get(0);
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason());
        assertEquals("Checking.", choice.message().content().orElseThrow());
        ChatCompletionMessageFunctionToolCall call = choice.message().toolCalls().orElseThrow().get(0).asFunction();
        assertEquals("toolu_01A", call.id());
        assertEquals("get_weather", call.function().name());
        assertEquals("Paris", JSON.readTree(call.function().arguments()).get("city").asText());
        assertEquals(57, first.usage().orElseThrow().completionTokens());
        assertTrue(JSON.readTree(onlyRequest(MESSAGES).getBody()).get("stream").asBoolean());

        ChatCompletion second = accumulate(followUp(choice.message(), call).build());

        assertEquals("18 degrees in Paris.", second.choices().get(0).message().content().orElseThrow());
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, second.choices().get(0).finishReason());
        assertTrue(second.usage().isEmpty(), "no usage chunk unless the client asked for it");
        assertToolResultSent();
    }

    @Test
    void endsTranslatedStreamWithDone() throws Exception {
        upstream.stubFor(post(urlEqualTo(MESSAGES)).willReturn(sse(messageStart("msg_03")
                + event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
                                               + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}")
                + event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
                                               + "\"delta\":{\"type\":\"text_delta\",\"text\":\"Tr\u00e8s beau \u2600\"}}")
                + event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}")
                + messageEnd("max_tokens", 4))));

        HttpResponse<String> response = gateway.postJson("/v1/chat/completions",
                "{\"model\":\"claude\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

        assertEquals(200, response.statusCode());
        assertEquals(Optional.of("text/event-stream"), response.headers().firstValue("content-type"));
        List<String> events = List.of(response.body().split("\n\n"));
        assertEquals("data: [DONE]", events.get(events.size() - 1));
        JsonNode first = JSON.readTree(events.get(0).substring(6));
        assertEquals("assistant", first.at("/choices/0/delta/role").asText());
        assertEquals("Tr\u00e8s beau \u2600", JSON.readTree(events.get(1).substring(6)).at("/choices/0/delta/content")
                .asText());
        assertEquals("length", JSON.readTree(events.get(2).substring(6)).at("/choices/0/finish_reason").asText());
    }

    @Test
    void answersLegacyCompletionFromMessages() throws Exception {
        upstream.stubFor(post(urlEqualTo(MESSAGES)).willReturn(json(200, """
                {"id": "msg_08", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
                 "content": [{"type": "text", "text": "Hi!"}], "stop_reason": "end_turn", "stop_sequence": null,
                 "usage": {"input_tokens": 3, "output_tokens": 2}}
                """)));
        CompletionCreateParams params = CompletionCreateParams.builder().model("claude").prompt("Say hi").maxTokens(16)
                .build();

        Completion completion = client.completions().create(params);

        assertEquals("Hi!", completion.choices().get(0).text());
        assertEquals(5, completion.usage().orElseThrow().totalTokens());
        JsonNode sent = JSON.readTree(onlyRequest(MESSAGES).getBody());
        assertEquals("Say hi", sent.at("/messages/0/content").asText());
        assertEquals(16, sent.get("max_tokens").asInt());
    }

    @Test
    void passesRateLimitToClientAs429WithRetryAfter() {
        String reset = Instant.now().plusSeconds(30).truncatedTo(ChronoUnit.SECONDS).toString();
        upstream.stubFor(post(urlEqualTo("/limited/v1/messages")).willReturn(json(429, """
                {"type": "error", "error": {"type": "rate_limit_error",
                 "message": "This request would exceed the rate limit for your organization of 50,000 input tokens per minute."},
                 "request_id": "req_011CSL"}
                """).withHeader("anthropic-ratelimit-input-tokens-remaining", "0")
                    .withHeader("anthropic-ratelimit-input-tokens-reset", reset)
                    .withHeader("anthropic-ratelimit-requests-remaining", "49")));
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("claude-limited")
                .addUserMessage(USER_TEXT).build();

        RateLimitException e = assertThrows(RateLimitException.class, () -> client.chat().completions().create(params));

        assertEquals(429, e.statusCode());
        assertTrue(e.type().isPresent(), "an OpenAI error envelope");
        long retryAfter = Long.parseLong(e.headers().values("retry-after").get(0));
        assertTrue(retryAfter > 0 && retryAfter <= 31, "the reset header's wait reaches the client: " + retryAfter);
        assertEquals(1, upstream.findAll(postRequestedFor(urlEqualTo("/limited/v1/messages"))).size());
    }

    @Test
    void answersOverloadAs503() {
        upstream.stubFor(post(urlEqualTo("/busy/v1/messages")).willReturn(json(529, """
                {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
                """)));
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("claude-busy")
                .addUserMessage(USER_TEXT).build();

        InternalServerException e = assertThrows(InternalServerException.class,
                                                 () -> client.chat().completions().create(params));

        assertEquals(503, e.statusCode());
        assertTrue(e.getMessage().contains("Overloaded"), e.getMessage());
        assertEquals(Optional.of("overloaded"), e.code());
        LoggedRequest sent = upstream.findAll(postRequestedFor(urlEqualTo("/busy/v1/messages"))).get(0);
        assertEquals("2024-10-22", sent.getHeader("anthropic-version"), "the provider's version option");
    }

    @Test
    void failsOverWhenStreamReportsOverloadBeforeAnyContent() {
        upstream.stubFor(post(urlEqualTo("/flaky/v1/messages")).willReturn(sse(messageStart("msg_bad")
                + event("ping", "{\"type\": \"ping\"}")
                + event("error", "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}"))));
        upstream.stubFor(post(urlEqualTo(MESSAGES)).willReturn(sse(messageStart("msg_good")
                + event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
                                               + "\"content_block\":{\"type\":\"text\",\"text\":\"Sunny.\"}}")
                + event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}")
                + messageEnd("end_turn", 2))));
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("claude-fallback")
                .addUserMessage(USER_TEXT).build();

        ChatCompletion completion = accumulate(params);

        assertEquals("Sunny.", completion.choices().get(0).message().content().orElseThrow());
        assertEquals("chatcmpl-msg_good", completion.id());
        assertEquals(1, upstream.findAll(postRequestedFor(urlEqualTo("/flaky/v1/messages"))).size());
    }

    @Test
    void refusesEmbeddingsWith400() {
        EmbeddingCreateParams params = EmbeddingCreateParams.builder().model("claude").input("hello").build();

        BadRequestException e = assertThrows(BadRequestException.class, () -> client.embeddings().create(params));

        assertTrue(e.getMessage().contains("provider 'claude' (anthropic) has no embeddings endpoint"), e.getMessage());
        assertEquals(0, upstream.getAllServeEvents().size());
    }

    @Test
    void refusesStructuredOutputWith400NamingTheField() throws Exception {
        HttpResponse<String> response = gateway.postJson("/v1/chat/completions", """
                {"model": "claude", "messages": [{"role": "user", "content": "hi"}],
                 "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": {}}}}
                """);

        assertEquals(400, response.statusCode());
        JsonNode error = JSON.readTree(response.body()).get("error");
        assertEquals("response_format", error.get("param").asText());
        assertEquals("invalid_request_error", error.get("type").asText());
        assertEquals(0, upstream.getAllServeEvents().size());
    }

    @Test
    void keepsAnthropicRequestIdVisibleOnErrors() throws Exception {
        upstream.stubFor(post(urlEqualTo(MESSAGES)).willReturn(json(400, """
                {"type": "error", "error": {"type": "invalid_request_error",
                 "message": "prompt is too long: 210000 tokens > 200000 maximum"}, "request_id": "req_big"}
                """)));
        HttpRequest request = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(10))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"claude\",\"messages\":[{\"role\":\"user\",\"content\":\"long\"}]}"))
                .build();

        HttpResponse<String> response = gateway.http().send(request, HttpResponse.BodyHandlers.ofString());

        assertEquals(400, response.statusCode());
        JsonNode error = JSON.readTree(response.body()).get("error");
        assertEquals("context_length_exceeded", error.get("code").asText());
        assertTrue(error.get("message").asText().startsWith("prompt is too long"), response.body());
        assertEquals(Optional.of("req_big"), response.headers().firstValue("x-detour-upstream-request-id"));
    }

    // --- helpers ---

    private static ChatCompletionCreateParams.Builder withTools() {
        FunctionParameters schema = FunctionParameters.builder()
                .putAdditionalProperty("type", JsonValue.from("object"))
                .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string"))))
                .putAdditionalProperty("required", JsonValue.from(List.of("city")))
                .build();
        return ChatCompletionCreateParams.builder()
                .model("claude")
                .addUserMessage(USER_TEXT)
                .addTool(ChatCompletionFunctionTool.builder()
                                 .function(FunctionDefinition.builder().name("get_weather")
                                                   .description("Current weather").parameters(schema).build())
                                 .build());
    }

    private static ChatCompletionCreateParams.Builder followUp(ChatCompletionMessage assistant,
                                                               ChatCompletionMessageFunctionToolCall call) {
        return withTools()
                .addMessage(assistant)
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id())
                                    .content("{\"temp_c\":18}").build());
    }

    /** Asserts that the last request carried the assistant's tool_use and the client's tool_result. */
    private static void assertToolResultSent() throws Exception {
        List<LoggedRequest> requests = upstream.findAll(postRequestedFor(urlEqualTo(MESSAGES)));
        JsonNode sent = JSON.readTree(requests.get(requests.size() - 1).getBody());
        JsonNode messages = sent.get("messages");
        assertEquals(3, messages.size(), messages.toString());
        assertEquals("assistant", messages.at("/1/role").asText());
        JsonNode toolUse = null;
        for (JsonNode block : messages.at("/1/content")) {
            if ("tool_use".equals(block.path("type").asText())) {
                toolUse = block;
            }
        }
        assertEquals("toolu_01A", toolUse.get("id").asText(), messages.toString());
        assertEquals("Paris", toolUse.at("/input/city").asText(), "arguments sent back as JSON input");
        assertEquals("user", messages.at("/2/role").asText());
        assertEquals("tool_result", messages.at("/2/content/0/type").asText());
        assertEquals("toolu_01A", messages.at("/2/content/0/tool_use_id").asText());
        assertEquals("{\"temp_c\":18}", messages.at("/2/content/0/content").asText());
    }

    private static ChatCompletion accumulate(ChatCompletionCreateParams params) {
        ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();
        try (StreamResponse<ChatCompletionChunk> response = client.chat().completions().createStreaming(params)) {
            response.stream().forEach(accumulator::accumulate);
        }
        return accumulator.chatCompletion();
    }

    private static String messageStart(String id) {
        return event("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"" + id + "\",\"type\":\"message\","
                + "\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\"stop_reason\":null,"
                + "\"stop_sequence\":null,\"usage\":{\"input_tokens\":412,\"output_tokens\":1}}}");
    }

    private static String messageEnd(String stopReason, int outputTokens) {
        return event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"" + stopReason
                                      + "\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":" + outputTokens + "}}")
               + event("message_stop", "{\"type\":\"message_stop\"}");
    }

    private static String inputJson(int index, String partialJson) {
        return event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":" + index
                + ",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"" + partialJson + "\"}}");
    }

    private static String event(String name, String data) {
        return "event: " + name + "\ndata: " + data + "\n\n";
    }

    private static ResponseDefinitionBuilder sse(String body) {
        return aResponse().withStatus(200).withHeader("content-type", "text/event-stream").withBody(body)
                .withChunkedDribbleDelay(7, 70);
    }

    private static ResponseDefinitionBuilder json(int status, String body) {
        return aResponse().withStatus(status).withHeader("content-type", "application/json").withBody(body);
    }

    private static LoggedRequest onlyRequest(String path) {
        List<LoggedRequest> requests = upstream.findAll(postRequestedFor(urlEqualTo(path)));
        assertEquals(1, requests.size(), () -> "upstream requests: " + requests.stream()
                .map(LoggedRequest::getUrl).collect(Collectors.joining(", ")));
        assertFalse(requests.get(0).getBodyAsString().contains("sdk-key"), "the SDK's key must not reach the provider");
        return requests.get(0);
    }
}
