package dev.detour.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.trafficlistener.WiremockNetworkTrafficListener;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.detour.server.testing.TestGateway;
import java.io.IOException;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway in front of a WireMock-simulated OpenAI: what reaches the upstream, byte for byte, and
 * what comes back to the client.
 */
class OpenAiUpstreamIT {

    private static final String CHAT = "/v1/chat/completions";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final AtomicInteger UPSTREAM_CONNECTIONS = new AtomicInteger();

    private static final ObjectMapper JSON = new ObjectMapper();
    private static WireMockServer upstream;
    private static TestGateway gateway;

    @BeforeAll
    static void start() {
        upstream = new WireMockServer(wireMockConfig().dynamicPort().networkTrafficListener(new ConnectionCounter()));
        upstream.start();
        String origin = "http://127.0.0.1:" + upstream.port();
        // One event loop, so every request of the JDK client meets the same upstream connection pool.
        gateway = TestGateway.start("""
                server:
                  io-threads: 1
                upstream:
                  timeouts: {connect: 2s, first-byte: 5s, idle: 5s, total: 10s}
                providers:
                  openai:
                    type: openai
                    base-url: %1$s/v1
                    keys:
                      - id: k1
                        value: sk-test-1
                  pair:
                    type: openai
                    base-url: %1$s/v1
                    keys:
                      - id: k1
                        value: sk-pair-1
                      - id: k2
                        value: sk-pair-2
                  prefixed:
                    type: openai
                    base-url: %1$s/openai/v1
                    headers:
                      OpenAI-Organization: org-abc
                    keys:
                      - id: p1
                        value: sk-prefixed-1
                routes:
                  - model: gpt-4o-mini
                    targets:
                      - provider: openai
                  - model: mini
                    targets:
                      - provider: openai
                        model: gpt-4o-mini-2024-07-18
                  - model: gpt-3.5-turbo-instruct
                    targets:
                      - provider: openai
                  - model: "mod\u00e8le-\u00fc"
                    targets:
                      - provider: openai
                        model: 'gpt-4o-mini \\ "quoted"'
                  - model: text-embedding-3-small
                    targets:
                      - provider: openai
                  - model: rotating
                    targets:
                      - provider: pair
                        model: gpt-4o-mini
                  - model: behind-prefix
                    targets:
                      - provider: prefixed
                        model: gpt-4o-mini
                """.formatted(origin));
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
    void resetUpstream() {
        upstream.resetAll();
    }

    @Test
    void forwardsChatBodyByteForByteWithProviderKeyAndRequestId() throws Exception {
        byte[] sent = utf8("{\r\n  \"messages\" :[ {\"content\":\"caf\\u00e9 \\ud83d\\ude00 \u2014 na\u00efve\\n\","
                           + " \"role\":\"user\"} ],\n\t\"temperature\": 0.70 ,\n"
                           + "  \"model\"   :   \"gpt-4o-mini\"   ,\"n\":1,\"stop\":null   }\n");
        byte[] answer = utf8("{\"id\":\"chatcmpl-7Qx\",\"object\":\"chat.completion\",\"created\":1763700000,"
                             + "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"message\":"
                             + "{\"role\":\"assistant\",\"content\":\"Bonjour \u00e0 vous\",\"refusal\":null},"
                             + "\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":12,"
                             + "\"completion_tokens\":3,\"total_tokens\":15}}");
        upstream.stubFor(post(urlEqualTo(CHAT)).willReturn(aResponse()
                .withStatus(200)
                .withHeader("content-type", "application/json")
                .withHeader("x-request-id", "req_from_upstream")
                .withHeader("openai-processing-ms", "42")
                .withBody(answer)));

        HttpResponse<byte[]> response = send(CHAT, sent, "x-request-id", "client-req-0001");

        assertEquals(200, response.statusCode(), text(response.body()));
        assertArrayEquals(answer, response.body(), "the client gets the upstream JSON unchanged");
        assertEquals("application/json", header(response, "content-type"));
        assertEquals(List.of("client-req-0001"), response.headers().allValues("x-request-id"),
                     "the gateway's request id replaces the upstream's");
        assertEquals("42", header(response, "openai-processing-ms"));
        assertEquals("openai", header(response, "x-detour-provider"));
        assertEquals("gpt-4o-mini", header(response, "x-detour-model"));
        assertEquals("k1", header(response, "x-detour-key-id"));
        LoggedRequest received = onlyRequest(CHAT);
        assertArrayEquals(sent, received.getBody(), () -> "upstream got: " + received.getBodyAsString());
        assertEquals("Bearer sk-test-1", received.getHeader("Authorization"));
        assertEquals("application/json", received.getHeader("Content-Type"));
        assertEquals("client-req-0001", received.getHeader("x-request-id"));
    }

    @Test
    void rewritesOnlyTheModelValueWhenRouteMapsIt() throws Exception {
        String template = "{\"messages\":[{\"role\":\"user\",\"content\":\"Gr\u00fc\u00dfe \ud83d\udc4b \\\"x\\\"\"}],"
                          + "\n  \"model\" :  %s ,\"stream\":false}";
        byte[] sent = utf8(template.formatted("\"mini\""));
        upstream.stubFor(post(urlEqualTo(CHAT)).willReturn(okJson("{\"id\":\"chatcmpl-1\"}")));

        HttpResponse<byte[]> response = send(CHAT, sent);

        assertEquals(200, response.statusCode(), text(response.body()));
        assertEquals("mini", header(response, "x-detour-route"));
        assertEquals("gpt-4o-mini-2024-07-18", header(response, "x-detour-model"));
        byte[] expected = utf8(template.formatted("\"gpt-4o-mini-2024-07-18\""));
        LoggedRequest received = onlyRequest(CHAT);
        assertArrayEquals(expected, received.getBody(), () -> "upstream got: " + received.getBodyAsString());
    }

    @Test
    void rewritesEscapedModelNameAsAWhole() throws Exception {
        byte[] sent = utf8("{\"model\":\"m\\u0069ni\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        upstream.stubFor(post(urlEqualTo(CHAT)).willReturn(okJson("{\"id\":\"chatcmpl-1\"}")));

        HttpResponse<byte[]> response = send(CHAT, sent);

        assertEquals(200, response.statusCode(), text(response.body()));
        byte[] expected = utf8("{\"model\":\"gpt-4o-mini-2024-07-18\",\"messages\":[{\"role\":\"user\","
                               + "\"content\":\"hi\"}]}");
        LoggedRequest received = onlyRequest(CHAT);
        assertArrayEquals(expected, received.getBody(), () -> "upstream got: " + received.getBodyAsString());
    }

    @Test
    void rewritesModelPlacedAfterLargeMultibyteContent() throws Exception {
        String filler = "\u00e9\u4e16\ud83d\ude00 abc ".repeat(12_000);
        String template = "{\"messages\":[{\"role\":\"user\",\"content\":\"" + filler + "\"}],\"model\":%s,\"n\":1}";
        byte[] sent = utf8(template.formatted("\"mini\""));
        upstream.stubFor(post(urlEqualTo(CHAT)).willReturn(okJson("{\"id\":\"chatcmpl-1\"}")));

        HttpResponse<byte[]> response = send(CHAT, sent);

        assertEquals(200, response.statusCode(), text(response.body()));
        byte[] expected = utf8(template.formatted("\"gpt-4o-mini-2024-07-18\""));
        LoggedRequest received = onlyRequest(CHAT);
        assertArrayEquals(expected, received.getBody(), "the model is rewritten at the right byte offsets");
    }

    @Test
    void rewritesNonAsciiModelNameToOneNeedingEscapes() throws Exception {
        byte[] sent = utf8("{\"model\":\"mod\u00e8le-\u00fc\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        upstream.stubFor(post(urlEqualTo(CHAT)).willReturn(okJson("{\"id\":\"chatcmpl-1\"}")));

        HttpResponse<byte[]> response = send(CHAT, sent);

        assertEquals(200, response.statusCode(), text(response.body()));
        byte[] expected = utf8("{\"model\":\"gpt-4o-mini \\\\ \\\"quoted\\\"\",\"messages\":[{\"role\":\"user\","
                               + "\"content\":\"hi\"}]}");
        LoggedRequest received = onlyRequest(CHAT);
        assertArrayEquals(expected, received.getBody(), () -> "upstream got: " + received.getBodyAsString());
    }

    @Test
    void rewritesModelAfterByteOrderMark() throws Exception {
        String template = "\ufeff{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"model\":%s}";
        byte[] sent = utf8(template.formatted("\"mini\""));
        upstream.stubFor(post(urlEqualTo(CHAT)).willReturn(okJson("{\"id\":\"chatcmpl-1\"}")));

        HttpResponse<byte[]> response = send(CHAT, sent);

        assertEquals(200, response.statusCode(), text(response.body()));
        byte[] expected = utf8(template.formatted("\"gpt-4o-mini-2024-07-18\""));
        LoggedRequest received = onlyRequest(CHAT);
        assertArrayEquals(expected, received.getBody(), () -> "upstream got: " + received.getBodyAsString());
    }

    @Test
    void rewritesOnlyTheTopLevelModel() throws Exception {
        String template = "{\"metadata\":{\"model\":\"mini\"},\"messages\":[{\"role\":\"user\","
                          + "\"content\":\"\\\"model\\\": \\\"mini\\\"\"}],\"model\":%s}";
        byte[] sent = utf8(template.formatted("\"mini\""));
        upstream.stubFor(post(urlEqualTo(CHAT)).willReturn(okJson("{\"id\":\"chatcmpl-1\"}")));

        HttpResponse<byte[]> response = send(CHAT, sent);

        assertEquals(200, response.statusCode(), text(response.body()));
        byte[] expected = utf8(template.formatted("\"gpt-4o-mini-2024-07-18\""));
        LoggedRequest received = onlyRequest(CHAT);
        assertArrayEquals(expected, received.getBody(), () -> "upstream got: " + received.getBodyAsString());
    }

    @Test
    void forwardsGeneratedRequestIdWhenClientSendsNone() throws Exception {
        upstream.stubFor(post(urlEqualTo(CHAT)).willReturn(okJson("{\"id\":\"chatcmpl-1\"}")));

        HttpResponse<byte[]> response = send(CHAT, chatBody());

        assertEquals(200, response.statusCode(), text(response.body()));
        String requestId = header(response, "x-request-id");
        assertTrue(requestId.startsWith("req_"), requestId);
        assertEquals(requestId, onlyRequest(CHAT).getHeader("x-request-id"));
    }

    @Test
    void relaysLargeJsonResponseIntact() throws Exception {
        String content = "0123456789abcdef\u00e9".repeat(40_000);
        byte[] answer = utf8("{\"id\":\"chatcmpl-big\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
                             + "\"message\":{\"role\":\"assistant\",\"content\":\"" + content + "\"},"
                             + "\"finish_reason\":\"length\"}]}");
        upstream.stubFor(post(urlEqualTo(CHAT)).willReturn(okJson(answer)));

        HttpResponse<byte[]> response = send(CHAT, chatBody());

        assertEquals(200, response.statusCode());
        assertArrayEquals(answer, response.body(), "a large body arrives whole");
    }

    @Test
    void forwardsBodySentAfterExpectContinue() throws Exception {
        byte[] sent = utf8("{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\""
                           + "x".repeat(4096) + "\"}]}");
        upstream.stubFor(post(urlEqualTo(CHAT)).willReturn(okJson("{\"id\":\"chatcmpl-1\"}")));
        HttpRequest request = HttpRequest.newBuilder(gateway.uri(CHAT))
                .timeout(TIMEOUT)
                .expectContinue(true)
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(sent))
                .build();

        HttpResponse<byte[]> response = gateway.http().send(request, HttpResponse.BodyHandlers.ofByteArray());

        assertEquals(200, response.statusCode(), text(response.body()));
        LoggedRequest received = onlyRequest(CHAT);
        assertArrayEquals(sent, received.getBody());
        assertFalse(received.containsHeader("Expect"), "the gateway answers Expect itself");
    }

    @Test
    void usesProviderKeyInsteadOfClientAuthorization() throws Exception {
        byte[] sent = utf8("{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        upstream.stubFor(post(urlEqualTo(CHAT)).willReturn(okJson("{\"id\":\"chatcmpl-1\"}")));

        HttpResponse<byte[]> response = send(CHAT, sent, "Authorization", "Bearer sk-client-secret");

        assertEquals(200, response.statusCode(), text(response.body()));
        LoggedRequest received = onlyRequest(CHAT);
        assertEquals(List.of("Bearer sk-test-1"), received.getHeaders().getHeader("Authorization").values());
        assertFalse(received.getHeaders().all().toString().contains("sk-client-secret"),
                    "the client's credential must not reach the provider");
    }

    @Test
    void rotatesKeysRoundRobin() throws Exception {
        byte[] sent = utf8("{\"model\":\"rotating\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        upstream.stubFor(post(urlEqualTo(CHAT)).willReturn(okJson("{\"id\":\"chatcmpl-1\"}")));

        List<String> keyIds = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            HttpResponse<byte[]> response = send(CHAT, sent);
            assertEquals(200, response.statusCode(), text(response.body()));
            keyIds.add(header(response, "x-detour-key-id"));
        }

        assertEquals(List.of("k1", "k2", "k1", "k2"), keyIds);
        List<String> authorizations = upstream.findAll(postRequestedFor(urlEqualTo(CHAT))).stream()
                .map(r -> r.getHeader("Authorization"))
                .toList();
        assertEquals(List.of("Bearer sk-pair-1", "Bearer sk-pair-2", "Bearer sk-pair-1", "Bearer sk-pair-2"),
                     authorizations);
    }

    @Test
    void relaysEventStreamBytesUnchanged() throws Exception {
        byte[] sent = utf8("{\"model\":\"gpt-4o-mini\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                           + "\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}]}");
        String head = "{\"id\":\"chatcmpl-7Qx\",\"object\":\"chat.completion.chunk\",\"created\":1763700000,"
                      + "\"model\":\"gpt-4o-mini\",";
        byte[] events = utf8(
                "data: " + head + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
                + "\"finish_reason\":null}],\"usage\":null}\n\n"
                + "data: " + head + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Sunny\"},"
                + "\"finish_reason\":null}],\"usage\":null}\n\n"
                + "data: " + head + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\", 18\u00b0C\"},"
                + "\"finish_reason\":null}],\"usage\":null}\n\n"
                + "data: " + head + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
                + "\"usage\":null}\n\n"
                + "data: " + head + "\"choices\":[],\"usage\":{\"prompt_tokens\":85,\"completion_tokens\":4,"
                + "\"total_tokens\":89}}\n\n"
                + "data: [DONE]\n\n");
        upstream.stubFor(post(urlEqualTo(CHAT)).willReturn(aResponse()
                .withStatus(200)
                .withHeader("content-type", "text/event-stream; charset=utf-8")
                .withHeader("cache-control", "no-cache")
                .withBody(events)
                .withChunkedDribbleDelay(5, 50)));

        HttpResponse<byte[]> response = send(CHAT, sent);

        assertEquals(200, response.statusCode(), text(response.body()));
        assertArrayEquals(events, response.body(), () -> "client got: " + text(response.body()));
        assertTrue(header(response, "content-type").startsWith("text/event-stream"));
        assertEquals("chunked", header(response, "transfer-encoding"));
        assertTrue(response.headers().firstValue("content-length").isEmpty(), "a stream has no content-length");
        LoggedRequest received = onlyRequest(CHAT);
        assertArrayEquals(sent, received.getBody());
        assertEquals("text/event-stream", received.getHeader("Accept"));
    }

    @Test
    void passesLegacyCompletionsThrough() throws Exception {
        byte[] sent = utf8("{\"model\":\"gpt-3.5-turbo-instruct\",\"prompt\":\"Say hi\",\"max_tokens\":16}");
        byte[] answer = utf8("{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1763700000,"
                             + "\"model\":\"gpt-3.5-turbo-instruct\",\"choices\":[{\"text\":\"Hi!\",\"index\":0,"
                             + "\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":2,"
                             + "\"completion_tokens\":2,\"total_tokens\":4}}");
        upstream.stubFor(post(urlEqualTo("/v1/completions")).willReturn(okJson(answer)));

        HttpResponse<byte[]> response = send("/v1/completions", sent);

        assertEquals(200, response.statusCode(), text(response.body()));
        assertArrayEquals(answer, response.body());
        LoggedRequest received = onlyRequest("/v1/completions");
        assertArrayEquals(sent, received.getBody());
        assertEquals("Bearer sk-test-1", received.getHeader("Authorization"));
    }

    @Test
    void passesEmbeddingsThrough() throws Exception {
        byte[] sent = utf8("{\"model\": \"text-embedding-3-small\", \"input\": [\"first text\", \"second text\"],"
                           + " \"encoding_format\": \"float\", \"dimensions\": 2}");
        byte[] answer = utf8("{\"object\": \"list\", \"model\": \"text-embedding-3-small\", \"data\": ["
                             + "{\"object\": \"embedding\", \"index\": 0, \"embedding\": [0.0123, -0.0456]},"
                             + "{\"object\": \"embedding\", \"index\": 1, \"embedding\": [0.0789, 0.0012]}],"
                             + " \"usage\": {\"prompt_tokens\": 6, \"total_tokens\": 6}}");
        upstream.stubFor(post(urlEqualTo("/v1/embeddings")).willReturn(okJson(answer)));

        HttpResponse<byte[]> response = send("/v1/embeddings", sent);

        assertEquals(200, response.statusCode(), text(response.body()));
        assertArrayEquals(answer, response.body());
        assertArrayEquals(sent, onlyRequest("/v1/embeddings").getBody());
    }

    @Test
    void answersUpstream429WithRetryAfterOnceTheOnlyKeyCools() throws Exception {
        byte[] error = utf8("{\"error\": {\"message\": \"Rate limit reached for gpt-4o-mini in organization org-abc "
                            + "on tokens per min (TPM): Limit 200000, Used 199500, Requested 900. Please try again "
                            + "in 120ms.\", \"type\": \"tokens\", \"param\": null, "
                            + "\"code\": \"rate_limit_exceeded\"}}");
        upstream.stubFor(post(urlEqualTo("/limited/v1/chat/completions")).willReturn(aResponse()
                .withStatus(429)
                .withHeader("content-type", "application/json")
                .withHeader("retry-after", "7")
                .withHeader("x-ratelimit-remaining-tokens", "0")
                .withBody(error)));
        // A gateway of its own: the 429 cools its only key, which would starve the other tests.
        try (TestGateway limited = TestGateway.start("""
                providers:
                  openai:
                    type: openai
                    base-url: http://127.0.0.1:%d/limited/v1
                    keys: [{id: k1, value: sk-test-1}]
                routes:
                  - model: gpt-4o-mini
                    targets: [{provider: openai}]
                """.formatted(upstream.port()))) {
            HttpResponse<String> first = limited.postJson(CHAT, text(chatBody()));
            HttpResponse<String> second = limited.postJson(CHAT, text(chatBody()));

            assertEquals(429, first.statusCode());
            JsonNode body = JSON.readTree(first.body()).get("error");
            assertEquals("rate_limit_error", body.get("type").asText());
            assertEquals("all_keys_exhausted", body.get("code").asText());
            assertTrue(body.get("message").asText().contains("provider 'openai' (key k1 cooling for 7 s)"),
                       first.body());
            assertFalse(first.body().contains("org-abc"), "the provider's account details stay private");
            assertEquals("7", first.headers().firstValue("retry-after").orElseThrow());
            assertEquals(429, second.statusCode());
            assertEquals(1, upstream.findAll(postRequestedFor(urlEqualTo("/limited/v1/chat/completions"))).size(),
                         "the cooling key is not tried again");
        }
    }

    @Test
    void passesInvalidRequestErrorThrough() throws Exception {
        byte[] error = utf8("{\"error\":{\"message\":\"This model's maximum context length is 128000 tokens.\","
                            + "\"type\":\"invalid_request_error\",\"param\":\"messages\","
                            + "\"code\":\"context_length_exceeded\"}}");
        upstream.stubFor(post(urlEqualTo(CHAT)).willReturn(aResponse()
                .withStatus(400)
                .withHeader("content-type", "application/json")
                .withBody(error)));

        HttpResponse<byte[]> response = send(CHAT, chatBody());

        assertEquals(400, response.statusCode());
        assertArrayEquals(error, response.body(), () -> "client got: " + text(response.body()));
    }

    @Test
    void passesServerErrorThrough() throws Exception {
        byte[] error = utf8("{\"error\":{\"message\":\"The server had an error while processing your request.\","
                            + "\"type\":\"server_error\",\"param\":null,\"code\":null}}");
        upstream.stubFor(post(urlEqualTo(CHAT)).willReturn(aResponse()
                .withStatus(500)
                .withHeader("content-type", "application/json")
                .withBody(error)));

        HttpResponse<byte[]> response = send(CHAT, chatBody());

        assertEquals(500, response.statusCode());
        assertArrayEquals(error, response.body(), () -> "client got: " + text(response.body()));
    }

    @Test
    void reusesUpstreamConnectionForSequentialRequests() throws Exception {
        upstream.stubFor(post(urlEqualTo(CHAT)).willReturn(okJson("{\"id\":\"chatcmpl-1\"}")));
        send(CHAT, chatBody()); // warms the pool, whatever earlier tests left in it
        upstream.resetRequests();
        int connectionsBefore = UPSTREAM_CONNECTIONS.get();
        assertTrue(connectionsBefore > 0, "the connection counter sees the upstream's connections");

        for (int i = 0; i < 5; i++) {
            HttpResponse<byte[]> response = send(CHAT, chatBody());
            assertEquals(200, response.statusCode(), text(response.body()));
        }

        assertEquals(5, upstream.findAll(postRequestedFor(urlEqualTo(CHAT))).size());
        assertEquals(0, UPSTREAM_CONNECTIONS.get() - connectionsBefore,
                     "sequential requests reuse the pooled keep-alive connection");
    }

    @Test
    void reusesUpstreamConnectionAfterStreamsAndErrors() throws Exception {
        upstream.stubFor(post(urlEqualTo(CHAT)).willReturn(okJson("{\"id\":\"chatcmpl-1\"}")));
        upstream.stubFor(post(urlEqualTo(CHAT)).withRequestBody(containing("\"stream\":true"))
                .willReturn(aResponse()
                        .withStatus(200)
                        .withHeader("content-type", "text/event-stream")
                        .withBody("data: {\"choices\":[]}\n\ndata: [DONE]\n\n")
                        .withChunkedDribbleDelay(2, 10)));
        upstream.stubFor(post(urlEqualTo(CHAT)).withRequestBody(containing("\"n\":2"))
                .willReturn(aResponse()
                        .withStatus(429)
                        .withHeader("content-type", "application/json")
                        .withHeader("retry-after", "1")
                        .withBody("{\"error\":{\"message\":\"slow down\",\"type\":\"requests\",\"param\":null,"
                                  + "\"code\":\"rate_limit_exceeded\"}}")));
        byte[] streamed = utf8("{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[]}");
        byte[] limited = utf8("{\"model\":\"gpt-4o-mini\",\"n\":2,\"messages\":[]}");
        send(CHAT, chatBody()); // warms the pool, whatever earlier tests left in it
        int connectionsBefore = UPSTREAM_CONNECTIONS.get();

        List<Integer> statuses = new ArrayList<>();
        for (byte[] body : List.of(streamed, limited, streamed, limited, chatBody())) {
            statuses.add(send(CHAT, body).statusCode());
        }

        assertEquals(List.of(200, 429, 200, 429, 200), statuses);
        assertEquals(0, UPSTREAM_CONNECTIONS.get() - connectionsBefore,
                     "complete streamed and error exchanges return the connection to the pool");
    }

    @Test
    void appendsEndpointToBaseUrlPath() throws Exception {
        upstream.stubFor(post(anyUrl()).willReturn(okJson("{\"id\":\"chatcmpl-1\"}")));
        byte[] sent = utf8("{\"model\":\"behind-prefix\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

        HttpResponse<byte[]> response = send(CHAT, sent);

        assertEquals(200, response.statusCode(), text(response.body()));
        List<LoggedRequest> received = upstream.findAll(anyRequestedFor(anyUrl()));
        assertEquals(1, received.size());
        assertEquals("/openai/v1/chat/completions", received.get(0).getUrl());
        assertEquals("Bearer sk-prefixed-1", received.get(0).getHeader("Authorization"));
        assertEquals("org-abc", received.get(0).getHeader("OpenAI-Organization"), "configured provider headers");
    }

    private static HttpResponse<byte[]> send(String path, byte[] body, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(gateway.uri(path))
                .timeout(TIMEOUT)
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return gateway.http().send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static LoggedRequest onlyRequest(String path) {
        List<LoggedRequest> requests = upstream.findAll(anyRequestedFor(anyUrl()));
        assertEquals(1, requests.size(), () -> "upstream requests: " + requests);
        LoggedRequest request = requests.get(0);
        assertEquals(path, request.getUrl());
        assertEquals("POST", request.getMethod().getName());
        return request;
    }

    private static ResponseDefinitionBuilder okJson(String json) {
        return okJson(utf8(json));
    }

    private static ResponseDefinitionBuilder okJson(byte[] json) {
        return aResponse().withStatus(200).withHeader("content-type", "application/json").withBody(json);
    }

    private static byte[] chatBody() {
        return utf8("{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    }

    private static String header(HttpResponse<?> response, String name) {
        return response.headers().firstValue(name).orElse("<absent>");
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Counts the TCP connections the upstream accepts. */
    private static final class ConnectionCounter implements WiremockNetworkTrafficListener {
        @Override
        public void opened(Socket socket) {
            UPSTREAM_CONNECTIONS.incrementAndGet();
        }

        @Override
        public void incoming(Socket socket, ByteBuffer bytes) {
        }

        @Override
        public void outgoing(Socket socket, ByteBuffer bytes) {
        }

        @Override
        public void closed(Socket socket) {
        }
    }
}
