package dev.detour.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.detour.server.testing.TestGateway;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Single-flight through the real server: 50 identical requests arriving while the first is still upstream
 * (WireMock answers after a delay) make exactly one upstream call; the others wait for its answer.
 */
class CacheSingleFlightIT {

    private static final int CLIENTS = 50;
    private static final String ANSWER = """
            {"id":"chatcmpl-once","object":"chat.completion","created":1763700000,"model":"gpt-4o-mini",\
            "choices":[{"index":0,"message":{"role":"assistant","content":"Once."},"logprobs":null,\
            "finish_reason":"stop"}],"usage":{"prompt_tokens":4,"completion_tokens":1,"total_tokens":5}}""";

    private static WireMockServer upstream;
    private static TestGateway gateway;

    @BeforeAll
    static void start() {
        upstream = new WireMockServer(wireMockConfig().dynamicPort().containerThreads(CLIENTS + 10));
        upstream.start();
        upstream.stubFor(post(urlEqualTo("/v1/chat/completions")).willReturn(aResponse()
                .withHeader("content-type", "application/json").withBody(ANSWER).withFixedDelay(500)));
        gateway = TestGateway.start("""
                providers:
                  openai:
                    type: openai
                    base-url: http://127.0.0.1:%d/v1
                    keys: [{id: k1, value: sk-test-1}]
                routes:
                  - model: wm
                    targets: [{provider: openai, model: gpt-4o-mini}]
                    cache: {enabled: true}
                """.formatted(upstream.port()));
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
    void sendsOneUpstreamRequestForFiftyIdenticalConcurrentOnes() throws Exception {
        String body = "{\"model\":\"wm\",\"messages\":[{\"role\":\"user\",\"content\":\"all at once\"}]}";
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();

        for (int i = 0; i < CLIENTS; i++) {
            HttpRequest request = HttpRequest.newBuilder(gateway.uri("/v1/chat/completions"))
                    .timeout(Duration.ofSeconds(30))
                    .header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build();
            sent.add(gateway.http().sendAsync(request, HttpResponse.BodyHandlers.ofString()));
        }
        CompletableFuture.allOf(sent.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);

        Map<String, Integer> outcomes = new HashMap<>();
        for (CompletableFuture<HttpResponse<String>> f : sent) {
            HttpResponse<String> r = f.join();
            assertEquals(200, r.statusCode(), r.body());
            assertEquals(ANSWER, r.body());
            outcomes.merge(r.headers().firstValue("x-detour-cache").orElse("<none>"), 1, Integer::sum);
        }
        assertEquals(1, upstream.findAll(postRequestedFor(urlEqualTo("/v1/chat/completions"))).size(),
                     "one upstream call for " + CLIENTS + " identical requests");
        assertEquals(Map.of("MISS", 1, "HIT", CLIENTS - 1), outcomes);
    }
}
