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
import com.openai.errors.NotFoundException;
import com.openai.errors.OpenAIServiceException;
import com.openai.errors.RateLimitException;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionAssistantMessageParam;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import dev.detour.server.testing.TestGateway;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway in front of a WireMock-simulated Gemini API, with the official OpenAI Java SDK as the client: the
 * SDK must not notice that the provider speaks another dialect, and Gemini must receive its own.
 */
class GeminiIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String KEY = "AIzaIT-gemini-key-0000000000000000000000";
    private static final String GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent";
    private static final String STREAM = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse";
    private static final String EMBED = "/v1beta/models/gemini-embedding-001:batchEmbedContents";
    private static final String USER_TEXT = "Weather in Paris?";
    private static final List<String> ERROR_ROUTES = List.of("limited", "badkey", "missing", "busy", "failing", "cut");

    private static WireMockServer upstream;
    private static TestGateway gateway;
    private static OpenAIClient client;

    @BeforeAll
    static void start() {
        upstream = new WireMockServer(wireMockConfig().dynamicPort());
        upstream.start();
        // Error tests use their own provider (keys cool or get disabled) and route (breakers open), and routes
        // that never retry, so that the client sees the adapter's own translation of Gemini's error.
        StringBuilder yaml = new StringBuilder("""
                upstream:
                  timeouts: {connect: 2s, first-byte: 5s, idle: 5s, total: 10s}
                providers:
                  gemini:
                    type: gemini
                    base-url: http://127.0.0.1:%1$d/v1beta
                    keys:
                      - id: g1
                        value: %2$s
                """.formatted(upstream.port(), KEY));
        for (String name : ERROR_ROUTES) {
            yaml.append("""
                      gemini-%1$s:
                        type: gemini
                        base-url: http://127.0.0.1:%2$d/v1beta
                        keys:
                          - id: %1$s
                            value: %3$s
                    """.formatted(name, upstream.port(), KEY));
        }
        yaml.append("""
                routes:
                  - model: flash
                    targets:
                      - provider: gemini
                        model: gemini-2.5-flash
                  - model: embed
                    targets:
                      - provider: gemini
                        model: models/gemini-embedding-001
                """);
        for (String name : ERROR_ROUTES) {
            yaml.append("""
                      - model: %1$s
                        retry-on: []
                        targets:
                          - provider: gemini-%1$s
                            model: gemini-2.5-flash
                    """.formatted(name));
        }
        gateway = TestGateway.start(yaml.toString());
        client = OpenAIOkHttpClient.builder()
                .baseUrl(gateway.baseUrl() + "/v1")
                .apiKey("client-key")
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
    void answersChatFromGenerateContent() throws Exception {
        upstream.stubFor(post(urlEqualTo(GENERATE)).willReturn(json(200, """
                {"candidates": [{"index": 0, "finishReason": "STOP",
                   "content": {"role": "model", "parts": [{"text": "Sunny, "}, {"text": "18 °C."}]}}],
                 "usageMetadata": {"promptTokenCount": 85, "candidatesTokenCount": 6, "thoughtsTokenCount": 4,
                   "totalTokenCount": 95},
                 "modelVersion": "gemini-2.5-flash", "responseId": "mH4gaK3U"}
                """)));
        ChatCompletionCreateParams params = chat().addSystemMessage("Answer briefly.").temperature(0.2)
                .maxCompletionTokens(64).build();

        ChatCompletion completion = client.chat().completions().create(params);

        assertEquals("chatcmpl-mH4gaK3U", completion.id());
        assertEquals("flash", completion.model());
        assertEquals("Sunny, 18 °C.", completion.choices().get(0).message().content().orElseThrow());
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, completion.choices().get(0).finishReason());
        CompletionUsage usage = completion.usage().orElseThrow();
        assertEquals(85, usage.promptTokens());
        assertEquals(10, usage.completionTokens(), "candidates plus thoughts");
        assertEquals(95, usage.totalTokens());
        LoggedRequest sent = onlyRequest(GENERATE);
        JsonNode body = JSON.readTree(sent.getBody());
        assertEquals("Answer briefly.", body.at("/systemInstruction/parts/0/text").asText());
        assertEquals("user", body.at("/contents/0/role").asText());
        assertEquals(USER_TEXT, body.at("/contents/0/parts/0/text").asText());
        assertEquals(64, body.at("/generationConfig/maxOutputTokens").asInt());
        assertEquals(0.2, body.at("/generationConfig/temperature").asDouble());
    }

    @Test
    void roundTripsToolCallsThroughTheSdk() throws Exception {
        upstream.stubFor(post(urlEqualTo(GENERATE)).willReturn(json(200, """
                {"candidates": [{"index": 0, "finishReason": "STOP",
                   "content": {"role": "model", "parts": [
                     {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]}}],
                 "usageMetadata": {"promptTokenCount": 40, "candidatesTokenCount": 7, "totalTokenCount": 47},
                 "responseId": "turn1"}
                """)));
        upstream.stubFor(post(urlEqualTo(GENERATE)).atPriority(1)
                .withRequestBody(containing("functionResponse"))
                .willReturn(json(200, """
                        {"candidates": [{"index": 0, "finishReason": "STOP",
                           "content": {"role": "model", "parts": [{"text": "It is 18 °C in Paris."}]}}],
                         "usageMetadata": {"promptTokenCount": 60, "candidatesTokenCount": 9, "totalTokenCount": 69},
                         "responseId": "turn2"}
                        """)));

        ChatCompletion first = client.chat().completions().create(chat().addTool(weatherTool()).build());

        ChatCompletion.Choice choice = first.choices().get(0);
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason());
        ChatCompletionMessageFunctionToolCall call = choice.message().toolCalls().orElseThrow().get(0).asFunction();
        assertEquals("call_turn1_0", call.id());
        assertEquals("get_weather", call.function().name());
        assertEquals("{\"city\":\"Paris\"}", call.function().arguments());
        JsonNode declared = JSON.readTree(onlyRequest(GENERATE).getBody());
        assertEquals("get_weather", declared.at("/tools/0/functionDeclarations/0/name").asText());
        assertTrue(declared.at("/tools/0/functionDeclarations/0/parameters/additionalProperties").isMissingNode(),
                   "Gemini rejects additionalProperties");

        upstream.resetRequests();
        ChatCompletion second = client.chat().completions().create(chat()
                .addTool(weatherTool())
                .addMessage(choice.message())
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content("{\"temp_c\":18}")
                                    .build())
                .build());

        assertEquals("It is 18 °C in Paris.", second.choices().get(0).message().content().orElseThrow());
        JsonNode followUp = JSON.readTree(onlyRequest(GENERATE).getBody());
        assertEquals("model", followUp.at("/contents/1/role").asText());
        assertEquals("get_weather", followUp.at("/contents/1/parts/0/functionCall/name").asText());
        assertEquals("Paris", followUp.at("/contents/1/parts/0/functionCall/args/city").asText());
        assertEquals("user", followUp.at("/contents/2/role").asText());
        assertEquals("get_weather", followUp.at("/contents/2/parts/0/functionResponse/name").asText());
        assertEquals(18, followUp.at("/contents/2/parts/0/functionResponse/response/temp_c").asInt());
    }

    @Test
    void streamsTextWithCrLfEventsAndUsage() throws Exception {
        upstream.stubFor(post(urlEqualTo(STREAM)).willReturn(sse(
                "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Sunny\"}],\"role\":\"model\"},\"index\":0}],"
                + "\"usageMetadata\":{\"promptTokenCount\":85,\"candidatesTokenCount\":1,\"totalTokenCount\":86},"
                + "\"responseId\":\"s1\"}",
                "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\", 18 °C \"}],\"role\":\"model\"},\"index\":0}],"
                + "\"responseId\":\"s1\"}",
                "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"in Paris.\"}],\"role\":\"model\"},"
                + "\"finishReason\":\"STOP\",\"index\":0}],"
                + "\"usageMetadata\":{\"promptTokenCount\":85,\"candidatesTokenCount\":8,\"totalTokenCount\":93},"
                + "\"responseId\":\"s1\"}")));
        ChatCompletionCreateParams params = chat()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
                .build();

        List<ChatCompletionChunk> chunks = stream(params);

        assertEquals("Sunny, 18 °C in Paris.", deltas(chunks));
        assertEquals(Optional.of(ChatCompletionChunk.Choice.FinishReason.STOP),
                     chunks.get(chunks.size() - 2).choices().get(0).finishReason());
        ChatCompletionChunk last = chunks.get(chunks.size() - 1);
        assertTrue(last.choices().isEmpty(), "the usage chunk has no choices");
        CompletionUsage usage = last.usage().orElseThrow();
        assertEquals(85, usage.promptTokens());
        assertEquals(8, usage.completionTokens());
        assertEquals(93, usage.totalTokens());
        assertTrue(chunks.stream().allMatch(c -> c.id().equals("chatcmpl-s1")));
        LoggedRequest sent = onlyRequest(STREAM);
        assertEquals(KEY, sent.getHeader("x-goog-api-key"));
    }

    @Test
    void roundTripsStreamedToolCalls() throws Exception {
        upstream.stubFor(post(urlEqualTo(STREAM)).willReturn(sse(
                "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Let me check.\"}],\"role\":\"model\"},"
                + "\"index\":0}],\"responseId\":\"t1\"}",
                "{\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"get_weather\","
                + "\"args\":{\"city\":\"Paris\",\"days\":2}}}],\"role\":\"model\"},\"finishReason\":\"STOP\","
                + "\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":40,\"candidatesTokenCount\":7,"
                + "\"totalTokenCount\":47},\"responseId\":\"t1\"}")));
        upstream.stubFor(post(urlEqualTo(STREAM)).atPriority(1)
                .withRequestBody(containing("functionResponse"))
                .willReturn(sse("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"18 °C.\"}],\"role\":\"model\"},"
                                + "\"finishReason\":\"STOP\",\"index\":0}],\"responseId\":\"t2\"}")));

        List<ChatCompletionChunk> chunks = stream(chat().addTool(weatherTool()).build());

        assertEquals("Let me check.", deltas(chunks));
        List<ChatCompletionChunk.Choice.Delta.ToolCall> calls = chunks.stream()
                .flatMap(c -> c.choices().stream())
                .flatMap(c -> c.delta().toolCalls().orElse(List.of()).stream())
                .toList();
        assertEquals(1, calls.size(), "a Gemini function call arrives whole, as one delta");
        ChatCompletionChunk.Choice.Delta.ToolCall call = calls.get(0);
        assertEquals(0, call.index());
        String callId = call.id().orElseThrow();
        assertEquals("get_weather", call.function().orElseThrow().name().orElseThrow());
        assertEquals("{\"city\":\"Paris\",\"days\":2}", call.function().orElseThrow().arguments().orElseThrow());
        assertEquals(Optional.of(ChatCompletionChunk.Choice.FinishReason.TOOL_CALLS),
                     chunks.get(chunks.size() - 1).choices().get(0).finishReason());

        upstream.resetRequests();
        ChatCompletionAssistantMessageParam assistant = ChatCompletionAssistantMessageParam.builder()
                .content("Let me check.")
                .addToolCall(ChatCompletionMessageToolCall.ofFunction(ChatCompletionMessageFunctionToolCall.builder()
                        .id(callId)
                        .function(ChatCompletionMessageFunctionToolCall.Function.builder()
                                          .name("get_weather").arguments("{\"city\":\"Paris\",\"days\":2}").build())
                        .build()))
                .build();
        List<ChatCompletionChunk> answer = stream(chat().addTool(weatherTool()).addMessage(assistant)
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(callId).content("sunny, 18").build())
                .build());

        assertEquals("18 °C.", deltas(answer));
        JsonNode followUp = JSON.readTree(onlyRequest(STREAM).getBody());
        JsonNode response = followUp.at("/contents/2/parts/0/functionResponse");
        assertEquals("get_weather", response.get("name").asText());
        assertEquals("sunny, 18", response.at("/response/content").asText(), "non-JSON results are wrapped");
    }

    @Test
    void embedsThroughBatchEmbedContents() throws Exception {
        upstream.stubFor(post(urlEqualTo(EMBED)).willReturn(json(200, """
                {"embeddings": [{"values": [0.0123, -0.0456]}, {"values": [0.0789, 0.0012]}]}
                """)));
        EmbeddingCreateParams params = EmbeddingCreateParams.builder()
                .model("embed")
                .inputOfArrayOfStrings(List.of("first text", "second text"))
                .dimensions(2)
                .build();

        CreateEmbeddingResponse response = client.embeddings().create(params);

        assertEquals(2, response.data().size());
        assertEquals(List.of(0.0123f, -0.0456f), response.data().get(0).embedding());
        assertEquals(List.of(0.0789f, 0.0012f), response.data().get(1).embedding());
        assertEquals("embed", response.model());
        JsonNode sent = JSON.readTree(onlyRequest(EMBED).getBody());
        assertEquals("models/gemini-embedding-001", sent.at("/requests/1/model").asText(), "the prefix is not doubled");
        assertEquals("second text", sent.at("/requests/1/content/parts/0/text").asText());
        assertEquals(2, sent.at("/requests/0/outputDimensionality").asInt());
    }

    @Test
    void answersLegacyCompletionFromOneUserTurn() throws Exception {
        upstream.stubFor(post(urlEqualTo(GENERATE)).willReturn(json(200, """
                {"candidates": [{"index": 0, "finishReason": "MAX_TOKENS",
                   "content": {"role": "model", "parts": [{"text": "Hi there"}]}}],
                 "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5}}
                """)));

        Completion completion = client.completions().create(CompletionCreateParams.builder()
                .model("flash").prompt("Say hi").maxTokens(2).build());

        assertEquals("Hi there", completion.choices().get(0).text());
        assertEquals(CompletionChoice.FinishReason.LENGTH, completion.choices().get(0).finishReason());
        JsonNode sent = JSON.readTree(onlyRequest(GENERATE).getBody());
        assertEquals("Say hi", sent.at("/contents/0/parts/0/text").asText());
        assertEquals(2, sent.at("/generationConfig/maxOutputTokens").asInt());
    }

    @Test
    void reportsPerMinuteQuotaAsRateLimitWithRetryInfoDelay() {
        upstream.stubFor(post(urlEqualTo(GENERATE)).willReturn(json(429, """
                {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED",
                  "message": "You exceeded your current quota, please check your plan and billing details.",
                  "details": [
                    {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
                      {"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                       "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "quotaValue": "10"}]},
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "26s"}]}}
                """)));
        ChatCompletionCreateParams params = chat("limited").build();

        RateLimitException e = assertThrows(RateLimitException.class, () -> client.chat().completions().create(params));

        assertEquals(429, e.statusCode());
        assertEquals(Optional.of("rate_limit_exceeded"), e.code());
        assertEquals(List.of("26"), e.headers().values("retry-after"));
        assertTrue(e.getMessage().contains("You exceeded your current quota"), e.getMessage());
    }

    @Test
    void reportsUnknownModelAsNotFound() {
        upstream.stubFor(post(urlEqualTo(GENERATE)).willReturn(json(404, """
                {"error": {"code": 404, "status": "NOT_FOUND",
                  "message": "models/gemini-2.5-flash is not found for API version v1beta."}}
                """)));
        ChatCompletionCreateParams params = chat("missing").build();

        NotFoundException e = assertThrows(NotFoundException.class, () -> client.chat().completions().create(params));

        assertEquals(Optional.of("model_not_found"), e.code());
    }

    @Test
    void blamesTheGatewayKeyNotTheClientsWhenGeminiRejectsIt() {
        upstream.stubFor(post(urlEqualTo(GENERATE)).willReturn(json(400, """
                {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                  "status": "INVALID_ARGUMENT",
                  "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]}}
                """)));
        ChatCompletionCreateParams params = chat("badkey").build();

        BadRequestException e = assertThrows(BadRequestException.class,
                                             () -> client.chat().completions().create(params));

        assertTrue(e.getMessage().contains("rejected the gateway's key"), e.getMessage());
        assertFalse(e.getMessage().contains(KEY), e.getMessage());
    }

    @Test
    void reportsOverloadAsServiceUnavailable() {
        upstream.stubFor(post(urlEqualTo(STREAM)).willReturn(json(503, """
                {"error": {"code": 503, "message": "The model is overloaded. Please try again later.",
                  "status": "UNAVAILABLE"}}
                """)));
        ChatCompletionCreateParams params = chat("busy").build();

        OpenAIServiceException e = assertThrows(OpenAIServiceException.class, () -> stream(params));

        assertEquals(503, e.statusCode());
        assertTrue(e.getMessage().contains("The model is overloaded"), e.getMessage());
    }

    @Test
    void answersErrorWhenStreamFailsBeforeAnyChunk() throws Exception {
        upstream.stubFor(post(urlEqualTo(STREAM)).willReturn(sse(
                "{\"error\":{\"code\":503,\"message\":\"The model is overloaded.\",\"status\":\"UNAVAILABLE\"}}")));

        HttpResponse<String> response = gateway.postJson("/v1/chat/completions",
                "{\"model\":\"failing\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

        assertEquals(502, response.statusCode(), response.body());
        assertTrue(response.body().contains("The model is overloaded."), response.body());
    }

    @Test
    void endsCutStreamWithErrorEventInsteadOfDone() throws Exception {
        upstream.stubFor(post(urlEqualTo(STREAM)).willReturn(sse(
                "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Sunny\"}],\"role\":\"model\"},\"index\":0}]}")));

        HttpResponse<String> response = gateway.postJson("/v1/chat/completions",
                "{\"model\":\"cut\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

        assertEquals(200, response.statusCode());
        assertTrue(response.body().contains("\"content\":\"Sunny\""), response.body());
        assertTrue(response.body().contains("\"error\""), response.body());
        assertFalse(response.body().contains("[DONE]"), response.body());
    }

    @Test
    void refusesSeveralChoicesWithoutCallingGemini() throws Exception {
        HttpResponse<String> response = gateway.postJson("/v1/chat/completions",
                "{\"model\":\"flash\",\"n\":2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

        assertEquals(400, response.statusCode());
        assertEquals("n", JSON.readTree(response.body()).at("/error/param").asText());
        assertEquals(0, upstream.findAll(postRequestedFor(urlEqualTo(GENERATE))).size());
    }

    private static ChatCompletionCreateParams.Builder chat() {
        return chat("flash");
    }

    private static ChatCompletionCreateParams.Builder chat(String model) {
        return ChatCompletionCreateParams.builder().model(model).addUserMessage(USER_TEXT);
    }

    private static ChatCompletionFunctionTool weatherTool() {
        return ChatCompletionFunctionTool.builder()
                .function(FunctionDefinition.builder()
                        .name("get_weather")
                        .description("Current weather")
                        .strict(true)
                        .parameters(FunctionParameters.builder()
                                .putAdditionalProperty("type", JsonValue.from("object"))
                                .putAdditionalProperty("properties", JsonValue.from(Map.of(
                                        "city", Map.of("type", "string"), "days", Map.of("type", "integer"))))
                                .putAdditionalProperty("required", JsonValue.from(List.of("city")))
                                .putAdditionalProperty("additionalProperties", JsonValue.from(false))
                                .build())
                        .build())
                .build();
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

    /** Returns Gemini's SSE framing: {@code data: <json>\r\n\r\n} per event, dribbled in small chunks. */
    private static ResponseDefinitionBuilder sse(String... events) {
        StringBuilder body = new StringBuilder();
        for (String event : events) {
            body.append("data: ").append(event).append("\r\n\r\n");
        }
        return aResponse().withStatus(200)
                .withHeader("content-type", "text/event-stream")
                .withBody(body.toString())
                .withChunkedDribbleDelay(7, 40);
    }

    private static ResponseDefinitionBuilder json(int status, String body) {
        return aResponse().withStatus(status).withHeader("content-type", "application/json; charset=UTF-8")
                .withBody(body);
    }

    private static LoggedRequest onlyRequest(String url) {
        List<LoggedRequest> requests = upstream.findAll(postRequestedFor(urlEqualTo(url)));
        assertEquals(1, requests.size(), () -> "upstream requests: " + requests);
        LoggedRequest request = requests.get(0);
        assertEquals(KEY, request.getHeader("x-goog-api-key"));
        assertNull(request.getHeader("Authorization"), "the client's key must not reach the provider");
        assertFalse(request.getUrl().contains("key="), request.getUrl());
        return request;
    }
}
