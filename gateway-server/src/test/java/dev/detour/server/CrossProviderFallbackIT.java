package dev.detour.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.matching;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import dev.detour.server.testing.OpenAiSpec;
import dev.detour.server.testing.TestGateway;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Fallback across dialects: an OpenAI-type provider whose every key is refused (429 {@code insufficient_quota} on
 * one, 429 {@code rate_limit_exceeded} on the other) hands the request to Anthropic, and an Anthropic that is
 * overloaded (529) to Gemini. The client, the official OpenAI Java SDK or a raw HTTP client, gets a valid OpenAI
 * {@code chat.completion} (or chunk stream) whichever provider served it, and the {@code x-detour-*} headers say
 * which one did.
 *
 * <p>Keys cool or leave the pool after a refusal, so each test has its own OpenAI provider (its own pool) and route.
 */
class CrossProviderFallbackIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String OPENAI = "/openai/v1/chat/completions";
    private static final String MESSAGES = "/anthropic/v1/messages";
    private static final String BUSY_MESSAGES = "/anthropic-busy/v1/messages";
    private static final String GENERATE = "/gemini/v1beta/models/gemini-2.5-flash:generateContent";
    private static final String STREAM = "/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent";
    private static final List<String> SCENARIOS = List.of("sdk", "sdk-stream", "raw", "raw-stream", "busy",
                                                          "busy-stream");

    private static WireMockServer upstream;
    private static TestGateway gateway;
    private static OpenAIClient client;

    @BeforeAll
    static void start() {
        upstream = new WireMockServer(wireMockConfig().dynamicPort());
        upstream.start();
        stubUpstreams();
        String origin = "http://127.0.0.1:" + upstream.port();
        StringBuilder yaml = new StringBuilder("""
                upstream:
                  timeouts: {connect: 2s, first-byte: 5s, idle: 5s, total: 10s}
                providers:
                  claude:
                    type: anthropic
                    base-url: %1$s/anthropic/v1
                    keys: [{id: c1, value: sk-ant-fallback-1}]
                  claude-busy:
                    type: anthropic
                    base-url: %1$s/anthropic-busy/v1
                    keys: [{id: cb1, value: sk-ant-busy-1}]
                  gemini:
                    type: gemini
                    base-url: %1$s/gemini/v1beta
                    keys: [{id: g1, value: AIzaFallback-00000000000000000000000000}]
                """.formatted(origin));
        for (String s : SCENARIOS) {
            // Both keys of the pool: one out of quota, one rate-limited (the stubs tell them apart by key).
            yaml.append("""
                      openai-%1$s:
                        type: openai
                        base-url: %2$s/openai/v1
                        pool: {strategy: ordered}
                        keys:
                          - {id: quota, value: sk-quota-%1$s}
                          - {id: limited, value: sk-limited-%1$s}
                    """.formatted(s, origin));
        }
        // Per the catalog (as overridden here) gpt-4o-tiny's window is 50 tokens: longer prompts go to Anthropic.
        yaml.append("""
                  openai-long:
                    type: openai
                    base-url: %1$s/openai/v1
                    keys: [{id: long, value: sk-long-1}]
                models:
                  - {family: openai, id: gpt-4o-tiny, context-window: 50, max-output-tokens: 10}
                routes:
                  - model: long
                    targets: [{provider: openai-long, model: gpt-4o-tiny}]
                    context-fallback: {provider: claude, model: claude-sonnet-4-5}
                """.formatted(origin));
        for (String s : SCENARIOS) {
            String second = s.startsWith("busy") ? "claude-busy" : "claude";
            yaml.append("""
                      - model: %1$s
                        max-wait: 0s
                        targets:
                          - {provider: openai-%1$s, model: gpt-4o}
                          - {provider: %2$s, model: claude-sonnet-4-5}
                          - {provider: gemini, model: gemini-2.5-flash}
                    """.formatted(s, second));
        }
        gateway = TestGateway.start(yaml.toString());
        client = OpenAIOkHttpClient.builder()
                .baseUrl(gateway.baseUrl() + "/v1")
                .apiKey("client-key-not-for-upstreams")
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
    void forgetRequests() {
        upstream.resetRequests();
    }

    @Test
    void sdkGetsAChatCompletionFromAnthropicWhenEveryOpenAiKeyIsRefused() {
        ChatCompletion completion = client.chat().completions().create(chat("sdk").build());

        assertEquals("Sunny, 18 degrees.", completion.choices().get(0).message().content().orElseThrow());
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, completion.choices().get(0).finishReason());
        assertEquals("sdk", completion.model(), "the model the client asked for");
        assertEquals(469, completion.usage().orElseThrow().totalTokens());
        assertOpenAiKeysTriedThenAnthropic("sdk");
    }

    @Test
    void sdkStreamsAChatCompletionFromAnthropicWhenEveryOpenAiKeyIsRefused() {
        ChatCompletionCreateParams params = chat("sdk-stream")
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();

        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            stream.stream().forEach(accumulator::accumulate);
        }

        ChatCompletion completion = accumulator.chatCompletion();
        assertEquals("Sunny, 18 degrees.", completion.choices().get(0).message().content().orElseThrow());
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, completion.choices().get(0).finishReason());
        assertEquals(57, completion.usage().orElseThrow().completionTokens());
        assertOpenAiKeysTriedThenAnthropic("sdk-stream");
    }

    @Test
    void rawClientSeesWhichProviderServed() throws Exception {
        HttpResponse<String> response = gateway.postJson("/v1/chat/completions", body("raw", false));

        assertEquals(200, response.statusCode(), response.body());
        assertEquals(Optional.of("claude"), response.headers().firstValue("x-detour-provider"));
        assertEquals(Optional.of("claude-sonnet-4-5"), response.headers().firstValue("x-detour-model"));
        assertEquals(Optional.of("3"), response.headers().firstValue("x-detour-attempts"), "two keys, then Anthropic");
        JsonNode answer = JSON.readTree(response.body());
        assertEquals("chat.completion", answer.get("object").asText());
        assertValid("CreateChatCompletionResponse", answer);
        assertOpenAiKeysTriedThenAnthropic("raw");
    }

    @Test
    void rawClientStreamSeesWhichProviderServed() throws Exception {
        HttpResponse<String> response = gateway.postJson("/v1/chat/completions", body("raw-stream", true));

        assertEquals(200, response.statusCode(), response.body());
        assertEquals(Optional.of("text/event-stream"), response.headers().firstValue("content-type"));
        assertEquals(Optional.of("claude"), response.headers().firstValue("x-detour-provider"));
        assertEquals(Optional.of("3"), response.headers().firstValue("x-detour-attempts"));
        List<JsonNode> chunks = chunks(response.body());
        assertEquals("Sunny, 18 degrees.", text(chunks));
        assertOpenAiKeysTriedThenAnthropic("raw-stream");
    }

    @Test
    void geminiServesWhenOpenAiKeysAreRefusedAndAnthropicIsOverloaded() throws Exception {
        ChatCompletion completion = client.chat().completions().create(chat("busy").build());

        assertEquals("Sunny, 18 °C.", completion.choices().get(0).message().content().orElseThrow());
        assertEquals("busy", completion.model());
        assertEquals(2, upstream.findAll(postRequestedFor(urlPathEqualTo(OPENAI))).size());
        assertEquals(1, upstream.findAll(postRequestedFor(urlPathEqualTo(BUSY_MESSAGES))).size());
        assertEquals(1, upstream.findAll(postRequestedFor(urlPathEqualTo(GENERATE))).size());
    }

    @Test
    void geminiStreamsWhenOpenAiKeysAreRefusedAndAnthropicIsOverloaded() throws Exception {
        HttpResponse<String> response = gateway.postJson("/v1/chat/completions", body("busy-stream", true));

        assertEquals(200, response.statusCode(), response.body());
        assertEquals(Optional.of("gemini"), response.headers().firstValue("x-detour-provider"));
        assertEquals(Optional.of("gemini-2.5-flash"), response.headers().firstValue("x-detour-model"));
        assertEquals(Optional.of("4"), response.headers().firstValue("x-detour-attempts"));
        assertEquals("Sunny, 18 °C in Paris.", text(chunks(response.body())));
        assertEquals(1, upstream.findAll(postRequestedFor(urlPathEqualTo(BUSY_MESSAGES))).size());
        assertEquals(1, upstream.findAll(postRequestedFor(urlPathEqualTo(STREAM))).size());
    }

    @Test
    void sendsAPromptTooLongForTheCatalogsWindowStraightToTheContextFallbackProvider() throws Exception {
        String prompt = "Summarise: " + "lorem ipsum ".repeat(50);

        HttpResponse<String> response = gateway.postJson("/v1/chat/completions", "{\"model\": \"long\", "
                + "\"messages\": [{\"role\": \"user\", \"content\": \"" + prompt + "\"}]}");

        assertEquals(200, response.statusCode(), response.body());
        assertEquals(Optional.of("claude"), response.headers().firstValue("x-detour-provider"));
        assertEquals(Optional.of("1"), response.headers().firstValue("x-detour-attempts"),
                     "the refused attempt sent nothing: only the fallback's counts");
        assertEquals(0, upstream.findAll(postRequestedFor(urlPathEqualTo(OPENAI))).size(),
                     "about 150 tokens never reach a 50-token model");
        assertEquals(1, upstream.findAll(postRequestedFor(urlPathEqualTo(MESSAGES))).size());
        assertValid("CreateChatCompletionResponse", JSON.readTree(response.body()));
    }

    // --- helpers ---

    private static ChatCompletionCreateParams.Builder chat(String model) {
        return ChatCompletionCreateParams.builder().model(model).addSystemMessage("Answer briefly.")
                .addUserMessage("Weather in Paris?");
    }

    private static String body(String model, boolean stream) {
        return "{\"model\": \"" + model + "\", \"messages\": [{\"role\": \"user\", \"content\": \"Weather in Paris?\"}]"
               + (stream ? ", \"stream\": true, \"stream_options\": {\"include_usage\": true}" : "") + "}";
    }

    /** Asserts both keys of the scenario's OpenAI provider were refused, in order, then Anthropic served once. */
    private static void assertOpenAiKeysTriedThenAnthropic(String scenario) {
        List<LoggedRequest> openai = upstream.findAll(postRequestedFor(urlPathEqualTo(OPENAI)));
        assertEquals(List.of("Bearer sk-quota-" + scenario, "Bearer sk-limited-" + scenario),
                     openai.stream().map(r -> r.getHeader("Authorization")).collect(Collectors.toList()));
        List<LoggedRequest> anthropic = upstream.findAll(postRequestedFor(urlPathEqualTo(MESSAGES)));
        assertEquals(1, anthropic.size());
        assertEquals("sk-ant-fallback-1", anthropic.get(0).getHeader("x-api-key"));
        assertTrue(anthropic.get(0).getBodyAsString().contains("\"claude-sonnet-4-5\""));
    }

    /** Returns the chunks of an SSE body, each checked against the spec; asserts it ends with {@code [DONE]}. */
    private static List<JsonNode> chunks(String body) throws Exception {
        List<JsonNode> chunks = new ArrayList<>();
        boolean done = false;
        for (String event : body.split("\r?\n\r?\n")) {
            if (event.isBlank()) {
                continue;
            }
            assertTrue(!done && event.startsWith("data: "), body);
            String data = event.substring("data: ".length()).strip();
            if (data.equals("[DONE]")) {
                done = true;
                continue;
            }
            JsonNode chunk = JSON.readTree(data);
            assertEquals("chat.completion.chunk", chunk.get("object").asText());
            assertValid("CreateChatCompletionStreamResponse", chunk);
            chunks.add(chunk);
        }
        assertTrue(done, "ends with data: [DONE]: " + body);
        return chunks;
    }

    private static String text(List<JsonNode> chunks) {
        StringBuilder text = new StringBuilder();
        for (JsonNode c : chunks) {
            text.append(c.at("/choices/0/delta/content").asText(""));
        }
        return text.toString();
    }

    private static void assertValid(String schema, JsonNode json) {
        List<String> violations = OpenAiSpec.violations(schema, json);
        assertTrue(violations.isEmpty(), () -> schema + ": " + violations + "\n" + json);
    }

    private static void stubUpstreams() {
        upstream.stubFor(post(urlPathEqualTo(OPENAI)).withHeader("Authorization", matching("Bearer sk-quota-.*"))
                                 .willReturn(json(429, """
                {"error": {"message": "You exceeded your current quota, please check your plan and billing details.",
                  "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}}
                """)));
        upstream.stubFor(post(urlPathEqualTo(OPENAI)).withHeader("Authorization", matching("Bearer sk-limited-.*"))
                                 .willReturn(json(429, """
                {"error": {"message": "Rate limit reached for gpt-4o in organization org-x on requests per min \
                (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms.", "type": "requests",
                  "param": null, "code": "rate_limit_exceeded"}}
                """).withHeader("retry-after", "20").withHeader("x-ratelimit-remaining-requests", "0")));
        upstream.stubFor(post(urlPathEqualTo(MESSAGES)).willReturn(json(200, """
                {"id": "msg_01XFD", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
                 "content": [{"type": "text", "text": "Sunny, 18 degrees."}],
                 "stop_reason": "end_turn", "stop_sequence": null,
                 "usage": {"input_tokens": 412, "output_tokens": 57}}
                """)));
        upstream.stubFor(post(urlPathEqualTo(MESSAGES)).atPriority(1)
                                 .withRequestBody(matchingJsonPath("$[?(@.stream == true)]"))
                                 .willReturn(sse(anthropicStream())));
        upstream.stubFor(post(urlPathEqualTo(BUSY_MESSAGES)).willReturn(json(529, """
                {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
                """)));
        upstream.stubFor(post(urlPathEqualTo(GENERATE)).willReturn(json(200, """
                {"candidates": [{"index": 0, "finishReason": "STOP",
                   "content": {"role": "model", "parts": [{"text": "Sunny, 18 °C."}]}}],
                 "usageMetadata": {"promptTokenCount": 85, "candidatesTokenCount": 6, "totalTokenCount": 91},
                 "modelVersion": "gemini-2.5-flash", "responseId": "mH4gaK3U"}
                """)));
        upstream.stubFor(post(urlPathEqualTo(STREAM)).willReturn(sse(
                "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Sunny, 18 °C\"}],\"role\":\"model\"},"
                + "\"index\":0}],\"responseId\":\"s1\"}\r\n\r\n"
                + "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" in Paris.\"}],\"role\":\"model\"},"
                + "\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":85,"
                + "\"candidatesTokenCount\":8,\"totalTokenCount\":93},\"responseId\":\"s1\"}\r\n\r\n")));
    }

    private static String anthropicStream() {
        return event("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_02\",\"type\":\"message\","
                     + "\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],"
                     + "\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":412,"
                     + "\"output_tokens\":1}}}")
               + event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
                       + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}")
               + event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
                       + "\"delta\":{\"type\":\"text_delta\",\"text\":\"Sunny, \"}}")
               + event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
                       + "\"delta\":{\"type\":\"text_delta\",\"text\":\"18 degrees.\"}}")
               + event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}")
               + event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
                       + "\"stop_sequence\":null},\"usage\":{\"output_tokens\":57}}")
               + event("message_stop", "{\"type\":\"message_stop\"}");
    }

    private static String event(String name, String data) {
        return "event: " + name + "\ndata: " + data + "\n\n";
    }

    private static ResponseDefinitionBuilder sse(String body) {
        return aResponse().withStatus(200).withHeader("content-type", "text/event-stream").withBody(body)
                .withChunkedDribbleDelay(5, 50);
    }

    private static ResponseDefinitionBuilder json(int status, String body) {
        return aResponse().withStatus(status).withHeader("content-type", "application/json").withBody(body);
    }
}
