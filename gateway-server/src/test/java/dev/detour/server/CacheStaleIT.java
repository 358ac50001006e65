package dev.detour.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import dev.detour.server.testing.TestGateway;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Stale-on-exhaustion through the real server: each upstream answers once, then every key gets 429. A route
 * with {@code stale-if-exhausted} serves its expired entry, marked {@code STALE}; one without answers 429.
 */
class CacheStaleIT {

    private static final String ANSWER = """
            {"id":"chatcmpl-%s","object":"chat.completion","created":1763700000,"model":"gpt-4o-mini",\
            "choices":[{"index":0,"message":{"role":"assistant","content":"Answer."},"logprobs":null,\
            "finish_reason":"stop"}],"usage":{"prompt_tokens":4,"completion_tokens":1,"total_tokens":5}}""";
    private static final String LIMITED = """
            {"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}""";

    private static WireMockServer upstream;
    private static TestGateway gateway;

    @BeforeAll
    static void start() {
        upstream = new WireMockServer(wireMockConfig().dynamicPort());
        upstream.start();
        for (String name : new String[] {"stale", "strict"}) {
            String path = "/" + name + "/v1/chat/completions";
            upstream.stubFor(post(urlEqualTo(path)).inScenario(name).whenScenarioStateIs(STARTED)
                    .willReturn(aResponse().withHeader("content-type", "application/json")
                            .withBody(ANSWER.formatted(name)))
                    .willSetStateTo("exhausted"));
            upstream.stubFor(post(urlEqualTo(path)).inScenario(name).whenScenarioStateIs("exhausted")
                    .willReturn(aResponse().withStatus(429).withHeader("content-type", "application/json")
                            .withHeader("retry-after", "60").withBody(LIMITED)));
        }
        gateway = TestGateway.start("""
                providers:
                  stale:
                    type: openai
                    base-url: http://127.0.0.1:%1$d/stale/v1
                    keys: [{id: s1, value: sk-test-1}, {id: s2, value: sk-test-2}]
                  strict:
                    type: openai
                    base-url: http://127.0.0.1:%1$d/strict/v1
                    keys: [{id: t1, value: sk-test-3}, {id: t2, value: sk-test-4}]
                routes:
                  - model: forgiving
                    targets: [{provider: stale, model: gpt-4o-mini}]
                    cache: {enabled: true, ttl: 200ms, stale-if-exhausted: 1h}
                  - model: strict
                    targets: [{provider: strict, model: gpt-4o-mini}]
                    cache: {enabled: true, ttl: 200ms}
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
    void servesAStaleAnswerWhenEveryKeyIsExhausted() throws Exception {
        HttpResponse<String> fresh = chat("forgiving");
        Thread.sleep(300); // past the 200 ms ttl

        HttpResponse<String> stale = chat("forgiving");

        assertEquals("MISS", fresh.headers().firstValue("x-detour-cache").orElseThrow());
        assertEquals(200, stale.statusCode(), stale.body());
        assertEquals("STALE", stale.headers().firstValue("x-detour-cache").orElseThrow());
        assertEquals(fresh.body(), stale.body());
        assertEquals(3, upstream.findAll(postRequestedFor(urlEqualTo("/stale/v1/chat/completions"))).size(),
                     "the answer, then both keys tried and refused");
    }

    @Test
    void answers429WithoutTheStaleOption() throws Exception {
        chat("strict");
        Thread.sleep(300);

        HttpResponse<String> r = chat("strict");

        assertEquals(429, r.statusCode(), r.body());
        assertEquals("MISS", r.headers().firstValue("x-detour-cache").orElseThrow());
        assertEquals("all_keys_exhausted", new ObjectMapper().readTree(r.body()).at("/error/code").asText());
    }

    private static HttpResponse<String> chat(String model) throws Exception {
        return gateway.postJson("/v1/chat/completions",
                                "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    }
}
