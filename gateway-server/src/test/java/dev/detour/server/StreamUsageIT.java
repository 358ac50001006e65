package dev.detour.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import dev.detour.server.testing.TestGateway;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Streams settle token limits with the usage the provider reports: Detour asks for it when the client
 * did not, and keeps that extra chunk from the client.
 */
class StreamUsageIT {

    private static final String STREAM = "{\"model\":\"%s\",\"stream\":true,\"messages\":[{\"role\":\"user\","
                                         + "\"content\":\"hi\"}]}";
    private static final String EVENTS = """
            data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,\
            "delta":{"role":"assistant","content":"Hi"},"finish_reason":null}],"usage":null}

            data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,\
            "delta":{},"finish_reason":"stop"}],"usage":null}

            data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],\
            "usage":{"prompt_tokens":40,"completion_tokens":2,"total_tokens":42}}

            data: [DONE]

            """;

    private static WireMockServer upstream;
    private static TestGateway gateway;

    @BeforeAll
    static void start() {
        upstream = new WireMockServer(wireMockConfig().dynamicPort());
        upstream.start();
        upstream.stubFor(post(urlEqualTo("/v1/chat/completions")).willReturn(aResponse()
                .withHeader("content-type", "text/event-stream").withBody(EVENTS)));
        gateway = TestGateway.start("""
                providers:
                  openai:
                    type: openai
                    base-url: http://127.0.0.1:%d/v1
                    keys: [{id: k1, value: sk-test-1}]
                  mock:
                    type: mock
                routes:
                  - model: wm
                    targets: [{provider: openai, model: gpt-4o-mini}]
                  - model: local
                    targets: [{provider: mock}]
                limits:
                  - name: tokens
                    scope: global
                    tokens: {capacity: 100000, per: 1h}
                """.formatted(upstream.port()));
    }

    @AfterAll
    static void stop() {
        gateway.close();
        upstream.stop();
    }

    @Test
    void asksTheUpstreamForUsageAndHidesItFromTheClient() throws Exception {
        HttpResponse<String> r = gateway.postJson("/v1/chat/completions", STREAM.formatted("wm"));

        assertEquals(200, r.statusCode());
        assertFalse(r.body().contains("\"usage\":{"), "the client did not ask for the usage chunk: " + r.body());
        assertTrue(r.body().endsWith("data: [DONE]\n\n"), r.body());
        String sent = upstream.findAll(postRequestedFor(urlEqualTo("/v1/chat/completions"))).get(0).getBodyAsString();
        assertEquals(true, new ObjectMapper().readTree(sent).at("/stream_options/include_usage").asBoolean(), sent);
    }

    @Test
    void settlesTheTokenBucketWithTheReportedUsage() throws Exception {
        HttpResponse<String> first = gateway.postJson("/v1/chat/completions", STREAM.formatted("local"));
        gateway.awaitIdle(); // the first is settled once its answer is written, which may be after the client read it
        HttpResponse<String> second = gateway.postJson("/v1/chat/completions", STREAM.formatted("local"));

        long before = Long.parseLong(first.headers().firstValue("x-ratelimit-remaining-tokens").orElseThrow());
        long after = Long.parseLong(second.headers().firstValue("x-ratelimit-remaining-tokens").orElseThrow());
        assertFalse(first.body().contains("\"usage\":{"), first.body());
        // The second request reserved its own estimate; the first was settled to its real, much smaller usage,
        // so less than two estimates are gone.
        long estimate = 100000 - before;
        assertTrue(before - after < estimate, "settled: before " + before + ", after " + after);
    }

    @Test
    void keepsTheUsageChunkForAClientThatAskedForIt() throws Exception {
        String asked = "{\"model\":\"local\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                       + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

        HttpResponse<String> r = gateway.postJson("/v1/chat/completions", asked);

        assertTrue(r.body().contains("\"choices\":[],\"usage\":{"), r.body());
    }
}
