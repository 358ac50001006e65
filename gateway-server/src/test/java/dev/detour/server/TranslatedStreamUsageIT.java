package dev.detour.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.detour.server.testing.TestGateway;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Streams of translated providers settle token limits with the usage the provider reported, though the client did
 * not ask for {@code stream_options.include_usage} and so sees no usage at all: the translator reports it to the
 * request instead of writing a chunk.
 *
 * <p>Each route has a token bucket of its own that does not refill during the test, so the
 * {@code x-ratelimit-remaining-tokens} of each request tells what the ones before it were charged.
 */
class TranslatedStreamUsageIT {

    private static final long CAPACITY = 100_000;
    private static final String STREAM = "{\"model\":\"%s\",\"stream\":true,\"max_tokens\":1000,"
                                         + "\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}]}";
    /** 412 input + 100 read from the cache + 0 written, 57 output: OpenAI's total is 569. */
    private static final long ANTHROPIC_TOTAL = 569;
    private static final String ANTHROPIC_EVENTS = """
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant",\
            "model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,\
            "usage":{"input_tokens":412,"output_tokens":1,"cache_creation_input_tokens":0,\
            "cache_read_input_tokens":100}}}

            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

            event: ping
            data: {"type":"ping"}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Sunny."}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":0}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},\
            "usage":{"output_tokens":57}}

            event: message_stop
            data: {"type":"message_stop"}

            """;
    /** Gemini's last usageMetadata counts: 85 prompt, 9 + 3 thoughts completion, total 97. */
    private static final long GEMINI_TOTAL = 97;
    private static final String GEMINI_EVENTS = """
            data: {"candidates":[{"content":{"parts":[{"text":"Sunny"}],"role":"model"},"index":0}],\
            "usageMetadata":{"promptTokenCount":85,"candidatesTokenCount":1,"totalTokenCount":86},"responseId":"r1"}

            data: {"candidates":[{"content":{"parts":[{"text":"."}],"role":"model"},"finishReason":"STOP",\
            "index":0}],"usageMetadata":{"promptTokenCount":85,"candidatesTokenCount":9,"thoughtsTokenCount":3,\
            "totalTokenCount":97},"responseId":"r1"}

            """;

    private static WireMockServer upstream;
    private static TestGateway gateway;

    @BeforeAll
    static void start() {
        upstream = new WireMockServer(wireMockConfig().dynamicPort());
        upstream.start();
        upstream.stubFor(post(urlEqualTo("/v1/messages")).willReturn(aResponse()
                .withHeader("content-type", "text/event-stream").withBody(ANTHROPIC_EVENTS)
                .withChunkedDribbleDelay(4, 20)));
        upstream.stubFor(post(urlEqualTo("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"))
                .willReturn(aResponse().withHeader("content-type", "text/event-stream").withBody(GEMINI_EVENTS)));
        gateway = TestGateway.start("""
                providers:
                  claude:
                    type: anthropic
                    base-url: http://127.0.0.1:%1$d/v1
                    keys: [{id: a1, value: sk-ant-test-1}]
                  gemini:
                    type: gemini
                    base-url: http://127.0.0.1:%1$d/v1beta
                    keys: [{id: g1, value: AIzaIT-gemini-key-0000000000000000000000}]
                routes:
                  - model: claude
                    targets: [{provider: claude, model: claude-sonnet-4-5}]
                  - model: flash
                    targets: [{provider: gemini, model: gemini-2.5-flash}]
                limits:
                  - name: claude-tokens
                    scope: global
                    match: {routes: [claude]}
                    tokens: {capacity: %2$d, per: 8760h}
                  - name: flash-tokens
                    scope: global
                    match: {routes: [flash]}
                    tokens: {capacity: %2$d, per: 8760h}
                """.formatted(upstream.port(), CAPACITY));
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

    @Test
    void settlesAnAnthropicStreamToItsUsageWithoutShowingIt() throws Exception {
        assertSettledToReportedUsage("claude", ANTHROPIC_TOTAL);
    }

    @Test
    void settlesAGeminiStreamToItsUsageWithoutShowingIt() throws Exception {
        assertSettledToReportedUsage("flash", GEMINI_TOTAL);
    }

    /**
     * Sends the same stream request twice: the second sees {@code capacity - estimate - total} once the first was
     * settled to {@code total}. Settlement runs when a response has been written, which may be a moment after the
     * client has read it, so the second waits until the gateway is idle.
     */
    private static void assertSettledToReportedUsage(String route, long total) throws Exception {
        HttpResponse<String> first = gateway.postJson("/v1/chat/completions", STREAM.formatted(route));
        assertEquals(200, first.statusCode(), first.body());
        assertFalse(first.body().contains("\"usage\""), "the client did not ask for usage: " + first.body());
        assertTrue(first.body().endsWith("data: [DONE]\n\n"), first.body());
        long estimate = CAPACITY - remaining(first);
        assertTrue(estimate > total, "the reservation (" + estimate + ") exceeds what was used");

        gateway.awaitIdle();
        HttpResponse<String> next = gateway.postJson("/v1/chat/completions", STREAM.formatted(route));

        assertEquals(200, next.statusCode(), next.body());
        assertFalse(next.body().contains("\"usage\""), next.body());
        assertEquals(CAPACITY - estimate - total, remaining(next),
                     "the first was settled to its " + total + " tokens; each reserves " + estimate);
    }

    private static long remaining(HttpResponse<String> response) {
        return Long.parseLong(response.headers().firstValue("x-ratelimit-remaining-tokens").orElseThrow());
    }
}
