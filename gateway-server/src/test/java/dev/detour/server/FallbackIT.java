package dev.detour.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.matching.StringValuePattern;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import com.openai.client.OpenAIClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.detour.server.testing.RawUpstream;
import dev.detour.server.testing.TestGateway;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Key pools and the fallback router through the real server: a key or target that cannot serve is
 * skipped without the client noticing, and the client sees a 429 or 503 only when nothing can serve.
 *
 * <p>Each test starts its own gateway, because key and breaker state lives as long as the gateway.
 * One WireMock plays every provider: provider {@code a} under {@code /a/v1}, provider {@code b} under
 * {@code /b/v1}; stubs match on the {@code Authorization} header to script each key.
 *
 * <p>A stream that fails after its first event reached the client cannot fall back; it ends with an
 * error event. That case is {@link FaultsIT#endsStreamWithErrorEventWhenUpstreamClosesMidStream()}.
 */
class FallbackIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAT = "/v1/chat/completions";
    private static final String A_CHAT = "/a/v1/chat/completions";
    private static final String B_CHAT = "/b/v1/chat/completions";
    private static final String A1 = "sk-alpha-key-0001";
    private static final String A2 = "sk-alpha-key-0002";
    private static final String A3 = "sk-alpha-key-0003";
    private static final String B1 = "sk-bravo-key-0001";
    private static final String BODY = "{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    private static final String STREAM_BODY =
            "{\"model\":\"chat\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    private static final String OK_BODY =
            "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1763700000,\"model\":\"gpt-4o-mini\","
            + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hi there\","
            + "\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}";
    private static final String EVENTS =
            "data: {\"id\":\"chatcmpl-b\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\","
            + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},"
            + "\"finish_reason\":null}]}\n\n"
            + "data: {\"id\":\"chatcmpl-b\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\","
            + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
            + "data: [DONE]\n\n";
    private static final String BODY_WITH_TEMPERATURE =
            "{\"model\":\"chat\",\"temperature\":0.9,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    /** Provider {@code a} with keys k1 and k2, provider {@code b} with key b1. */
    private static final String TWO_PROVIDERS = """
            providers:
              a:
                type: openai
                base-url: ORIGIN/a/v1
                keys:
                  - {id: k1, value: sk-alpha-key-0001}
                  - {id: k2, value: sk-alpha-key-0002}
              b:
                type: openai
                base-url: ORIGIN/b/v1
                keys:
                  - {id: b1, value: sk-bravo-key-0001}
            """;
    private static final Duration POLL = Duration.ofMillis(100);

    private static WireMockServer upstream;

    @BeforeAll
    static void startUpstream() {
        upstream = new WireMockServer(wireMockConfig().dynamicPort());
        upstream.start();
    }

    @AfterAll
    static void stopUpstream() {
        if (upstream != null) {
            upstream.stop();
        }
    }

    @BeforeEach
    void resetUpstream() {
        upstream.resetAll();
    }

    // --- 1. rate limits: rotate, skip while cooling, come back -----------------------------------------

    @Test
    void servesFromNextKeyAfter429AndSkipsCoolingKeyUntilRetryAfterPasses() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).inScenario("k1").whenScenarioStateIs(Scenario.STARTED)
                .withHeader("Authorization", bearer(A1)).willReturn(rateLimited("2")).willSetStateTo("recovered"));
        upstream.stubFor(post(urlEqualTo(A_CHAT)).inScenario("k1").whenScenarioStateIs("recovered")
                .withHeader("Authorization", bearer(A1)).willReturn(ok()));
        upstream.stubFor(post(urlEqualTo(A_CHAT)).withHeader("Authorization", bearer(A2)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  a:
                    type: openai
                    base-url: ORIGIN/a/v1
                    keys:
                      - {id: k1, value: sk-alpha-key-0001}
                      - {id: k2, value: sk-alpha-key-0002}
                routes:
                  - model: chat
                    targets: [{provider: a, model: gpt-4o-mini}]
                """));
             Sdk sdk = new Sdk(gateway)) {
            ChatCompletionCreateParams params = ChatCompletionCreateParams.builder()
                    .model("chat").addUserMessage("hi").build();
            // Timed from before the request that cools k1: the key cools when the gateway reads the 429, so it is
            // back 2 s after this at the earliest, however long the answer takes to reach the test.
            long beforeCooling = System.nanoTime();

            HttpResponseFor<ChatCompletion> first = sdk.client().chat().completions().withRawResponse()
                    .create(params);
            List<String> whileCooling = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                whileCooling.add(header(gateway.postJson(CHAT, BODY), "x-detour-key-id"));
            }
            HttpResponse<String> back = sendUntil(gateway, BODY, r -> "k1".equals(header(r, "x-detour-key-id")),
                                                  Duration.ofSeconds(15));
            long backAfterMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - beforeCooling);

            assertEquals(200, first.statusCode());
            assertEquals("Hi there", first.parse().choices().get(0).message().content().orElseThrow(),
                         "the SDK gets a normal completion, without retrying itself (max retries 0)");
            assertEquals(List.of("k2"), first.headers().values("x-detour-key-id"));
            assertEquals(List.of("2"), first.headers().values("x-detour-attempts"));
            assertEquals(List.of("k2", "k2", "k2", "k2"), whileCooling, "the cooling key is skipped");
            assertEquals(200, back.statusCode());
            assertTrue(backAfterMillis >= 1_900, "k1 came back after " + backAfterMillis + " ms (retry-after: 2)");
            assertEquals(2, calls(A_CHAT, A1), "k1 saw only its 429 and, once cooled down, one success");
        }
    }

    @Test
    void waitsForTheCoolingKeyWhenItIsFreeWithinMaxWait() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).inScenario("k1").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(rateLimited("1").withHeader("retry-after-ms", "400")).willSetStateTo("recovered"));
        upstream.stubFor(post(urlEqualTo(A_CHAT)).inScenario("k1").whenScenarioStateIs("recovered")
                .willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  a:
                    type: openai
                    base-url: ORIGIN/a/v1
                    keys: [{id: k1, value: sk-alpha-key-0001}]
                routes:
                  - model: chat
                    max-wait: 2s
                    targets: [{provider: a, model: gpt-4o-mini}]
                """))) {
            long start = System.nanoTime();

            HttpResponse<String> r = gateway.postJson(CHAT, BODY);

            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("2", header(r, "x-detour-attempts"));
            assertTrue(millis >= 350, "waited " + millis + " ms for retry-after-ms: 400 (preferred over retry-after)");
            assertTrue(millis < 1_500, "waited " + millis + " ms");
        }
    }

    @Test
    void deadlineCapsTheWaitForACoolingKey() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).willReturn(rateLimited("2")));
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  a:
                    type: openai
                    base-url: ORIGIN/a/v1
                    keys: [{id: k1, value: sk-alpha-key-0001}]
                routes:
                  - model: chat
                    max-wait: 5s
                    deadline: 500ms
                    targets: [{provider: a, model: gpt-4o-mini}]
                """))) {
            long start = System.nanoTime();

            HttpResponse<String> r = gateway.postJson(CHAT, BODY);

            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals(429, r.statusCode(), r.body());
            assertEquals("2", header(r, "retry-after"));
            assertTrue(millis < 1_000, "a 2 s cooldown does not fit a 500 ms deadline: answered after " + millis);
            assertEquals(1, calls(A_CHAT));
        }
    }

    @Test
    void maxWaitBoundsTheTotalTimeOneRequestWaits() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).willReturn(rateLimited("1").withHeader("retry-after-ms", "500")));
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  a:
                    type: openai
                    base-url: ORIGIN/a/v1
                    keys: [{id: k1, value: sk-alpha-key-0001}]
                routes:
                  - model: chat
                    max-wait: 1s
                    max-attempts: 20
                    deadline: 30s
                    targets: [{provider: a, model: gpt-4o-mini}]
                """))) {
            long start = System.nanoTime();

            HttpResponse<String> r = gateway.postJson(CHAT, BODY);

            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals(429, r.statusCode(), r.body());
            // Unbounded, 20 attempts would wait 19 times 500 ms: about 10 s.
            assertTrue(millis < 3_000, "max-wait is 1 s, but the request waited " + millis + " ms over "
                                       + calls(A_CHAT) + " attempts");
        }
    }

    @Test
    void maxAttemptsBoundsTheAttemptsOfOneRequest() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).willReturn(rateLimited("30")));
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  a:
                    type: openai
                    base-url: ORIGIN/a/v1
                    keys:
                      - {id: k1, value: sk-alpha-key-0001}
                      - {id: k2, value: sk-alpha-key-0002}
                      - {id: k3, value: sk-alpha-key-0003}
                routes:
                  - model: chat
                    max-attempts: 2
                    targets: [{provider: a, model: gpt-4o-mini}]
                """))) {

            HttpResponse<String> r = gateway.postJson(CHAT, BODY);

            assertEquals(429, r.statusCode(), r.body());
            assertEquals("2", header(r, "x-detour-attempts"));
            assertEquals(2, calls(A_CHAT), "max-attempts: 2");
            assertEquals("all_keys_exhausted", error(r).get("code").asText());
            assertTrue(r.headers().firstValue("retry-after").isPresent(), "a 429 always says when to retry");
        }
    }

    // --- 2. quota exhausted: out for exhausted-for, then one probe decides ------------------------------

    @Test
    void exhaustedKeyStaysOutThenExactlyOneProbeDecidesWhetherItReturns() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).inScenario("k1").whenScenarioStateIs(Scenario.STARTED)
                .withHeader("Authorization", bearer(A1)).willReturn(insufficientQuota()).willSetStateTo("probe-1"));
        upstream.stubFor(post(urlEqualTo(A_CHAT)).inScenario("k1").whenScenarioStateIs("probe-1")
                .withHeader("Authorization", bearer(A1)).willReturn(insufficientQuota().withFixedDelay(400))
                .willSetStateTo("probe-2"));
        upstream.stubFor(post(urlEqualTo(A_CHAT)).inScenario("k1").whenScenarioStateIs("probe-2")
                .withHeader("Authorization", bearer(A1)).willReturn(ok()));
        upstream.stubFor(post(urlEqualTo(A_CHAT)).withHeader("Authorization", bearer(A2)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  a:
                    type: openai
                    base-url: ORIGIN/a/v1
                    pool: {strategy: ordered, exhausted-for: 1s}
                    keys:
                      - {id: k1, value: sk-alpha-key-0001}
                      - {id: k2, value: sk-alpha-key-0002}
                routes:
                  - model: chat
                    targets: [{provider: a, model: gpt-4o-mini}]
                """))) {

            HttpResponse<String> first = gateway.postJson(CHAT, BODY);
            long exhaustedAt = System.nanoTime();
            List<String> whileOut = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                whileOut.add(header(gateway.postJson(CHAT, BODY), "x-detour-key-id"));
            }
            JsonNode k1WhileOut = key(pools(gateway), "a", "k1");
            sleepUntil(exhaustedAt + TimeUnit.MILLISECONDS.toNanos(1_200));
            List<HttpResponse<String>> burst = parallel(gateway, BODY, 6);
            int callsAfterBurst = calls(A_CHAT, A1);
            HttpResponse<String> back = sendUntil(gateway, BODY, r -> "k1".equals(header(r, "x-detour-key-id")),
                                                  Duration.ofSeconds(15));
            HttpResponse<String> next = gateway.postJson(CHAT, BODY);

            assertEquals(200, first.statusCode(), first.body());
            assertEquals("k2", header(first, "x-detour-key-id"));
            assertEquals(List.of("k2", "k2", "k2"), whileOut, "an exhausted key is out for exhausted-for");
            assertEquals("exhausted", k1WhileOut.get("state").asText());
            assertEquals("insufficient_quota", k1WhileOut.get("last_error").asText());
            for (HttpResponse<String> r : burst) {
                assertEquals(200, r.statusCode(), r.body());
                assertEquals("k2", header(r, "x-detour-key-id"), "the failed probe moved on to k2");
            }
            assertEquals(2, callsAfterBurst, "of six concurrent requests exactly one probed k1");
            assertEquals(200, back.statusCode());
            assertEquals("k1", header(next, "x-detour-key-id"), "the successful probe brought k1 back");
            assertEquals(4, calls(A_CHAT, A1));
        }
    }

    @Test
    void probeAnsweredWithRateLimitCoolsTheKeyForItsRetryAfter() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).inScenario("k1").whenScenarioStateIs(Scenario.STARTED)
                .withHeader("Authorization", bearer(A1)).willReturn(insufficientQuota()).willSetStateTo("probe"));
        upstream.stubFor(post(urlEqualTo(A_CHAT)).inScenario("k1").whenScenarioStateIs("probe")
                .withHeader("Authorization", bearer(A1))
                .willReturn(rateLimited("1").withHeader("retry-after-ms", "300")).willSetStateTo("recovered"));
        upstream.stubFor(post(urlEqualTo(A_CHAT)).inScenario("k1").whenScenarioStateIs("recovered")
                .withHeader("Authorization", bearer(A1)).willReturn(ok()));
        upstream.stubFor(post(urlEqualTo(A_CHAT)).withHeader("Authorization", bearer(A2)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  a:
                    type: openai
                    base-url: ORIGIN/a/v1
                    pool: {strategy: ordered, exhausted-for: 1s}
                    keys:
                      - {id: k1, value: sk-alpha-key-0001}
                      - {id: k2, value: sk-alpha-key-0002}
                routes:
                  - model: chat
                    targets: [{provider: a, model: gpt-4o-mini}]
                """))) {
            gateway.postJson(CHAT, BODY);
            long exhaustedAt = System.nanoTime();
            sleepUntil(exhaustedAt + TimeUnit.MILLISECONDS.toNanos(1_100));

            HttpResponse<String> probed = gateway.postJson(CHAT, BODY);
            HttpResponse<String> back = sendUntil(gateway, BODY, r -> "k1".equals(header(r, "x-detour-key-id")),
                                                  Duration.ofSeconds(15));

            assertEquals("2", header(probed, "x-detour-attempts"), "the probe met the 429, then k2 served");
            assertEquals(200, back.statusCode());
        }
    }

    @Test
    void exhaustedQuotaGroupLetsExactlyOneProbeThroughWhenItsTimeIsUp() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).withHeader("Authorization", bearer(A1))
                .willReturn(insufficientQuota().withFixedDelay(300)));
        upstream.stubFor(post(urlEqualTo(A_CHAT)).withHeader("Authorization", bearer(A2))
                .willReturn(insufficientQuota().withFixedDelay(300)));
        upstream.stubFor(post(urlEqualTo(A_CHAT)).withHeader("Authorization", bearer(A3)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  a:
                    type: openai
                    base-url: ORIGIN/a/v1
                    pool: {strategy: ordered, exhausted-for: 1s}
                    keys:
                      - {id: k1, value: sk-alpha-key-0001, quota-group: g}
                      - {id: k2, value: sk-alpha-key-0002, quota-group: g}
                      - {id: k3, value: sk-alpha-key-0003}
                routes:
                  - model: chat
                    targets: [{provider: a, model: gpt-4o-mini}]
                """))) {
            gateway.postJson(CHAT, BODY);
            long exhaustedAt = System.nanoTime();
            sleepUntil(exhaustedAt + TimeUnit.MILLISECONDS.toNanos(1_200));

            List<HttpResponse<String>> burst = parallel(gateway, BODY, 6);

            for (HttpResponse<String> r : burst) {
                assertEquals(200, r.statusCode(), r.body());
            }
            assertEquals(2, calls(A_CHAT, A1) + calls(A_CHAT, A2),
                         "one request exhausted the group, then exactly one probe should follow");
        }
    }

    // --- 3. rejected key: disabled, and shown masked -----------------------------------------------------

    @Test
    void disablesKeyOn401AndAdminPoolsShowsItDisabledWithItsMaskedTailOnly() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).withHeader("Authorization", bearer(A1)).willReturn(invalidKey()));
        upstream.stubFor(post(urlEqualTo(A_CHAT)).withHeader("Authorization", bearer(A2)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  a:
                    type: openai
                    base-url: ORIGIN/a/v1
                    keys:
                      - {id: k1, value: sk-alpha-key-0001}
                      - {id: k2, value: sk-alpha-key-0002}
                routes:
                  - model: chat
                    targets: [{provider: a, model: gpt-4o-mini}]
                """))) {

            HttpResponse<String> first = gateway.postJson(CHAT, BODY);
            List<Integer> later = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                later.add(gateway.postJson(CHAT, BODY).statusCode());
            }
            HttpResponse<String> admin = gateway.get("/admin/pools");

            assertEquals(200, first.statusCode(), first.body());
            assertEquals("k2", header(first, "x-detour-key-id"));
            assertEquals(List.of(200, 200, 200, 200), later);
            assertEquals(1, calls(A_CHAT, A1), "a disabled key is never tried again");
            assertEquals(200, admin.statusCode(), admin.body());
            JsonNode k1 = key(JSON.readTree(admin.body()), "a", "k1");
            assertEquals("disabled", k1.get("state").asText());
            assertEquals("...0001", k1.get("key").asText());
            assertTrue(k1.get("available_in_ms").isNull(), "only an operator can bring it back: " + k1);
            assertEquals("invalid_api_key", k1.get("last_error").asText());
            assertEquals("available", key(JSON.readTree(admin.body()), "a", "k2").get("state").asText());
            assertFalse(admin.body().contains(A1) || admin.body().contains(A2), "never a key: " + admin.body());
        }
    }

    @Test
    void answers503NoUsableKeyWhenEveryKeyIsRejected() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).willReturn(invalidKey()));
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  a:
                    type: openai
                    base-url: ORIGIN/a/v1
                    keys:
                      - {id: k1, value: sk-alpha-key-0001}
                      - {id: k2, value: sk-alpha-key-0002}
                routes:
                  - model: chat
                    targets: [{provider: a, model: gpt-4o-mini}]
                """))) {

            HttpResponse<String> first = gateway.postJson(CHAT, BODY);
            HttpResponse<String> second = gateway.postJson(CHAT, BODY);

            for (HttpResponse<String> r : List.of(first, second)) {
                assertEquals(503, r.statusCode(), r.body());
                assertEquals("no_usable_key", error(r).get("code").asText());
                assertEquals("service_unavailable_error", error(r).get("type").asText());
                assertTrue(r.headers().firstValue("retry-after").isEmpty(), "retrying will not help: " + r.headers());
                assertFalse(r.body().contains(A1) || r.body().contains(A2), r.body());
            }
            assertEquals(2, calls(A_CHAT), "each key was tried once, by the first request only");
        }
    }

    // --- 4. every key of the first target exhausted: the second target serves ------------------------------

    @Test
    void fallsBackToAnotherProviderWhenEveryKeyOfTheFirstTargetIsRateLimited() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).willReturn(rateLimited("30")));
        upstream.stubFor(post(urlEqualTo(B_CHAT)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config(TWO_PROVIDERS + """
                routes:
                  - model: chat
                    targets:
                      - {provider: a, model: gpt-4o-mini}
                      - {provider: b, model: gpt-4o}
                """))) {

            HttpResponse<String> first = gateway.postJson(CHAT, BODY);
            HttpResponse<String> second = gateway.postJson(CHAT, BODY);

            assertEquals(200, first.statusCode(), first.body());
            assertEquals("b", header(first, "x-detour-provider"));
            assertEquals("gpt-4o", header(first, "x-detour-model"));
            assertEquals("chat", header(first, "x-detour-route"));
            assertEquals("b1", header(first, "x-detour-key-id"));
            assertEquals("3", header(first, "x-detour-attempts"), "k1, k2, then b");
            assertEquals(200, second.statusCode(), second.body());
            assertEquals("b", header(second, "x-detour-provider"));
            assertEquals("1", header(second, "x-detour-attempts"), "the cooling keys are skipped at once");
            assertEquals(2, calls(A_CHAT));
            assertEquals("gpt-4o", JSON.readTree(requests(B_CHAT).get(0).getBodyAsString()).get("model").asText());
        }
    }

    @Test
    void requestTooLargeForOnePoolMovesToATargetOfAnotherPool() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).willReturn(tooLarge()));
        upstream.stubFor(post(urlEqualTo(B_CHAT)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config(TWO_PROVIDERS + """
                routes:
                  - model: chat
                    targets:
                      - {provider: a, model: gpt-4o-mini}
                      - {provider: b, model: gpt-4o}
                """))) {

            HttpResponse<String> r = gateway.postJson(CHAT, BODY);
            HttpResponse<String> admin = gateway.get("/admin/pools");

            assertEquals(200, r.statusCode(), r.body());
            assertEquals("b", header(r, "x-detour-provider"));
            assertEquals(1, calls(A_CHAT), "no other key of the same pool is tried: none could take the request");
            assertEquals("available", key(JSON.readTree(admin.body()), "a", "k1").get("state").asText(),
                         "one oversized request says nothing about the key");
        }
    }

    @Test
    void returnsTheProvidersTooLargeErrorWhenNoOtherPoolCanTakeTheRequest() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).willReturn(tooLarge()));
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  a:
                    type: openai
                    base-url: ORIGIN/a/v1
                    keys:
                      - {id: k1, value: sk-alpha-key-0001}
                      - {id: k2, value: sk-alpha-key-0002}
                routes:
                  - model: chat
                    targets: [{provider: a, model: gpt-4o-mini}]
                """))) {

            HttpResponse<String> r = gateway.postJson(CHAT, BODY);

            assertEquals(429, r.statusCode(), r.body());
            assertNotEquals("all_keys_exhausted", error(r).get("code").asText(),
                            "no key is rate-limited or out of quota: " + r.body());
            assertTrue(error(r).get("message").asText().startsWith("Request too large"), r.body());
            assertEquals(1, calls(A_CHAT));
        }
    }

    // --- 5. target-level failures -------------------------------------------------------------------------

    @Test
    void fallsBackToNextTargetOnServerError() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).willReturn(serverError()));
        upstream.stubFor(post(urlEqualTo(B_CHAT)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config(TWO_PROVIDERS + """
                routes:
                  - model: chat
                    targets:
                      - {provider: a, model: gpt-4o-mini}
                      - {provider: b, model: gpt-4o}
                """))) {

            HttpResponse<String> r = gateway.postJson(CHAT, BODY);

            assertEquals(200, r.statusCode(), r.body());
            assertEquals("b", header(r, "x-detour-provider"));
            assertEquals("2", header(r, "x-detour-attempts"));
            assertEquals(1, calls(A_CHAT), "a 5xx is the target's fault: its other key is not tried");
        }
    }

    @Test
    void fallsBackToNextTargetOnFirstByteTimeout() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).willReturn(ok().withFixedDelay(3_000)));
        upstream.stubFor(post(urlEqualTo(B_CHAT)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config(TWO_PROVIDERS + """
                routes:
                  - model: chat
                    timeouts: {first-byte: 300ms}
                    targets:
                      - {provider: a, model: gpt-4o-mini}
                      - {provider: b, model: gpt-4o}
                """))) {
            long start = System.nanoTime();

            HttpResponse<String> r = gateway.postJson(CHAT, BODY);

            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("b", header(r, "x-detour-provider"));
            assertTrue(millis >= 250 && millis < 2_000, "answered after " + millis + " ms");
        }
    }

    @Test
    void returnsThe500WhenRetryOnLeavesOutServerError() throws Exception {
        String error = "{\"error\":{\"message\":\"The server had an error while processing your request.\","
                       + "\"type\":\"server_error\",\"param\":null,\"code\":null}}";
        upstream.stubFor(post(urlEqualTo(A_CHAT)).willReturn(json(500, error)));
        upstream.stubFor(post(urlEqualTo(B_CHAT)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config(TWO_PROVIDERS + """
                routes:
                  - model: chat
                    retry-on: [rate-limit, quota, timeout]
                    targets:
                      - {provider: a, model: gpt-4o-mini}
                      - {provider: b, model: gpt-4o}
                """))) {

            HttpResponse<String> r = gateway.postJson(CHAT, BODY);

            assertEquals(500, r.statusCode(), r.body());
            assertEquals(error, r.body(), "the provider's OpenAI-shaped error passes through");
            assertEquals("a", header(r, "x-detour-provider"));
            assertEquals(1, calls(A_CHAT));
            assertEquals(0, calls(B_CHAT), "server-error is not in retry-on");
        }
    }

    @Test
    void retryOnWithNothingUnderItIsTheSameAsLeavingItOut() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).withHeader("Authorization", bearer(A1))
                .willReturn(rateLimited("30")));
        upstream.stubFor(post(urlEqualTo(A_CHAT)).withHeader("Authorization", bearer(A2)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  a:
                    type: openai
                    base-url: ORIGIN/a/v1
                    pool: {strategy: ordered}
                    keys:
                      - {id: k1, value: sk-alpha-key-0001}
                      - {id: k2, value: sk-alpha-key-0002}
                routes:
                  - model: chat
                    retry-on:
                    targets: [{provider: a, model: gpt-4o-mini}]
                """))) {

            HttpResponse<String> r = gateway.postJson(CHAT, BODY);

            assertEquals(200, r.statusCode(), r.body());
            assertEquals("k2", header(r, "x-detour-key-id"));
        }
    }

    // --- 6. nothing can serve ---------------------------------------------------------------------------

    @Test
    void answers429WithTheSoonestRetryAfterNamingThePoolsWhenEveryKeyIsExhausted() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).withHeader("Authorization", bearer(A1))
                .willReturn(rateLimited("20")));
        upstream.stubFor(post(urlEqualTo(A_CHAT)).withHeader("Authorization", bearer(A2))
                .willReturn(rateLimited("5")));
        upstream.stubFor(post(urlEqualTo(B_CHAT)).willReturn(rateLimited("9")));
        try (TestGateway gateway = TestGateway.start(config(TWO_PROVIDERS + """
                routes:
                  - model: chat
                    targets:
                      - {provider: a, model: gpt-4o-mini}
                      - {provider: b, model: gpt-4o}
                """))) {

            HttpResponse<String> first = gateway.postJson(CHAT, BODY);
            HttpResponse<String> second = gateway.postJson(CHAT, BODY);

            for (HttpResponse<String> r : List.of(first, second)) {
                assertEquals(429, r.statusCode(), r.body());
                assertEquals("5", header(r, "retry-after"), "the soonest key, k2, is free in 5 s");
                long ms = Long.parseLong(header(r, "retry-after-ms"));
                assertTrue(ms > 4_000 && ms <= 5_000, "retry-after-ms " + ms);
                assertEquals("application/json", header(r, "content-type"));
                JsonNode error = error(r);
                assertEquals("rate_limit_error", error.get("type").asText());
                assertEquals("all_keys_exhausted", error.get("code").asText());
                assertTrue(error.has("param"), "OpenAI's envelope has every field: " + r.body());
                String message = error.get("message").asText();
                assertTrue(message.contains("provider 'a' (key k1 cooling for 20 s, key k2 cooling for 5 s)"), message);
                assertTrue(message.contains("provider 'b' (key b1 cooling for 9 s)"), message);
                assertFalse(message.contains("org-secret"), "the provider's account details stay private");
            }
            assertEquals(3, calls(A_CHAT) + calls(B_CHAT), "the second request tried nothing");
        }
    }

    @Test
    void answers503WhenTheCircuitBreakerIsOpenOnEveryTarget() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).willReturn(serverError()));
        upstream.stubFor(post(urlEqualTo(B_CHAT)).willReturn(json(503, "{\"error\":{\"message\":\"The server is "
                + "overloaded or not ready yet.\",\"type\":\"service_unavailable_error\",\"param\":null,"
                + "\"code\":\"server_is_overloaded\"}}")));
        try (TestGateway gateway = TestGateway.start(config(TWO_PROVIDERS + """
                routes:
                  - model: chat
                    circuit-breaker: {failures: 1, open-for: 30s}
                    targets:
                      - {provider: a, model: gpt-4o-mini}
                      - {provider: b, model: gpt-4o}
                """))) {

            HttpResponse<String> first = gateway.postJson(CHAT, BODY);
            HttpResponse<String> second = gateway.postJson(CHAT, BODY);
            JsonNode routes = JSON.readTree(gateway.get("/admin/pools").body()).get("routes");

            assertTrue(first.statusCode() >= 500, "the last upstream error: " + first.statusCode());
            assertEquals(503, second.statusCode(), second.body());
            assertEquals("targets_failing", error(second).get("code").asText());
            assertEquals("service_unavailable_error", error(second).get("type").asText());
            long retryAfter = Long.parseLong(header(second, "retry-after"));
            assertTrue(retryAfter >= 29 && retryAfter <= 30, "the breakers reopen in 30 s: " + retryAfter);
            assertEquals(2, calls(A_CHAT) + calls(B_CHAT), "an open breaker keeps requests away");
            for (JsonNode target : routes.get(0).get("targets")) {
                assertEquals("open", target.get("circuit_breaker").asText(), routes.toString());
            }
        }
    }

    @Test
    void openCircuitBreakerLetsOneProbeThroughOnceOpenForHasPassed() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).inScenario("a").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(serverError()).willSetStateTo("healthy"));
        upstream.stubFor(post(urlEqualTo(A_CHAT)).inScenario("a").whenScenarioStateIs("healthy")
                .willReturn(ok()));
        upstream.stubFor(post(urlEqualTo(B_CHAT)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config(TWO_PROVIDERS + """
                routes:
                  - model: chat
                    circuit-breaker: {failures: 1, open-for: 1s}
                    targets:
                      - {provider: a, model: gpt-4o-mini}
                      - {provider: b, model: gpt-4o}
                """))) {

            HttpResponse<String> failedOver = gateway.postJson(CHAT, BODY);
            HttpResponse<String> whileOpen = gateway.postJson(CHAT, BODY);
            HttpResponse<String> back = sendUntil(gateway, BODY, r -> "a".equals(header(r, "x-detour-provider")),
                                                  Duration.ofSeconds(15));
            HttpResponse<String> after = gateway.postJson(CHAT, BODY);

            assertEquals("b", header(failedOver, "x-detour-provider"));
            assertEquals("b", header(whileOpen, "x-detour-provider"));
            assertEquals("1", header(whileOpen, "x-detour-attempts"), "the open target is skipped");
            assertEquals(200, back.statusCode());
            assertEquals("a", header(after, "x-detour-provider"), "the probe's success closed the breaker");
            assertEquals(3, calls(A_CHAT));
        }
    }

    // --- 7. streams fall back only before their first event ------------------------------------------------

    @Test
    void streamFallsBackWhenFirstTargetAnswers429() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).willReturn(rateLimited("30")));
        upstream.stubFor(post(urlEqualTo(B_CHAT)).willReturn(eventStream()));
        try (TestGateway gateway = TestGateway.start(config(TWO_PROVIDERS + """
                routes:
                  - model: chat
                    targets:
                      - {provider: a, model: gpt-4o-mini}
                      - {provider: b, model: gpt-4o}
                """))) {

            HttpResponse<String> r = gateway.postJson(CHAT, STREAM_BODY);

            assertEquals(200, r.statusCode(), r.body());
            assertTrue(header(r, "content-type").startsWith("text/event-stream"), header(r, "content-type"));
            assertEquals(EVENTS, r.body(), "the client sees only the second target's stream");
            assertEquals("b", header(r, "x-detour-provider"));
            assertEquals("3", header(r, "x-detour-attempts"));
        }
    }

    @Test
    void streamFallsBackWhenFirstTargetClosesBeforeItsFirstEvent() throws Exception {
        upstream.stubFor(post(urlEqualTo(B_CHAT)).willReturn(eventStream()));
        // A 200 event-stream head, then the connection closes: nothing has reached the client yet.
        try (RawUpstream broken = RawUpstream.start((head, out, up) -> RawUpstream.write(out,
                     "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"));
             TestGateway gateway = TestGateway.start(config("""
                     providers:
                       a:
                         type: openai
                         base-url: http://127.0.0.1:%d/v1
                         keys: [{id: k1, value: sk-alpha-key-0001}]
                       b:
                         type: openai
                         base-url: ORIGIN/b/v1
                         keys: [{id: b1, value: sk-bravo-key-0001}]
                     routes:
                       - model: chat
                         targets:
                           - {provider: a, model: gpt-4o-mini}
                           - {provider: b, model: gpt-4o}
                     """.formatted(broken.port())))) {

            HttpResponse<String> r = gateway.postJson(CHAT, STREAM_BODY);

            assertEquals(200, r.statusCode(), r.body());
            assertEquals(EVENTS, r.body(), "the client sees only the second target's stream");
            assertEquals("b", header(r, "x-detour-provider"));
            assertEquals("2", header(r, "x-detour-attempts"));
            assertEquals(1, broken.requests());
        }
    }

    // --- 8. quota groups ------------------------------------------------------------------------------

    @Test
    void rateLimitOnOneKeyOfAQuotaGroupCoolsItsSiblingsButNotOtherKeys() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).withHeader("Authorization", bearer(A1))
                .willReturn(rateLimited("30")));
        upstream.stubFor(post(urlEqualTo(A_CHAT)).withHeader("Authorization", bearer(A2)).willReturn(ok()));
        upstream.stubFor(post(urlEqualTo(A_CHAT)).withHeader("Authorization", bearer(A3)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  a:
                    type: openai
                    base-url: ORIGIN/a/v1
                    pool: {strategy: ordered}
                    keys:
                      - {id: k1, value: sk-alpha-key-0001, quota-group: g}
                      - {id: k2, value: sk-alpha-key-0002, quota-group: g}
                      - {id: k3, value: sk-alpha-key-0003}
                routes:
                  - model: chat
                    targets: [{provider: a, model: gpt-4o-mini}]
                """))) {

            HttpResponse<String> first = gateway.postJson(CHAT, BODY);
            HttpResponse<String> second = gateway.postJson(CHAT, BODY);
            JsonNode pools = pools(gateway);

            assertEquals(200, first.statusCode(), first.body());
            assertEquals("k3", header(first, "x-detour-key-id"));
            assertEquals("2", header(first, "x-detour-attempts"), "k1's 429, then k3: k2 is skipped with it");
            assertEquals("k3", header(second, "x-detour-key-id"));
            assertEquals("1", header(second, "x-detour-attempts"));
            assertEquals(1, calls(A_CHAT, A1));
            assertEquals(0, calls(A_CHAT, A2), "k2 shares k1's quota: it is never called");
            for (String id : List.of("k1", "k2")) {
                JsonNode k = key(pools, "a", id);
                assertEquals("cooling", k.get("state").asText(), k.toString());
                assertEquals("g", k.get("quota_group").asText());
            }
            assertEquals("available", key(pools, "a", "k3").get("state").asText());
        }
    }

    @Test
    void adminPoolsShowsTheSignalThatCooledAQuotaGroupOnItsKeys() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).withHeader("Authorization", bearer(A1))
                .willReturn(rateLimited("30")));
        upstream.stubFor(post(urlEqualTo(A_CHAT)).withHeader("Authorization", bearer(A3)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  a:
                    type: openai
                    base-url: ORIGIN/a/v1
                    pool: {strategy: ordered}
                    keys:
                      - {id: k1, value: sk-alpha-key-0001, quota-group: g}
                      - {id: k2, value: sk-alpha-key-0002, quota-group: g}
                      - {id: k3, value: sk-alpha-key-0003}
                routes:
                  - model: chat
                    targets: [{provider: a, model: gpt-4o-mini}]
                """))) {

            gateway.postJson(CHAT, BODY);
            JsonNode pools = pools(gateway);

            for (String id : List.of("k1", "k2")) {
                JsonNode k = key(pools, "a", id);
                assertEquals("cooling", k.get("state").asText(), k.toString());
                assertEquals("rate_limit_exceeded", k.get("last_error").asText(), "why is " + id + " cooling? " + k);
            }
        }
    }

    // --- 9. local quotas ------------------------------------------------------------------------------

    @Test
    void localRequestQuotaSendsTheThirdRequestOfTheMinuteToTheNextKey() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  a:
                    type: openai
                    base-url: ORIGIN/a/v1
                    pool: {strategy: ordered}
                    keys:
                      - {id: k1, value: sk-alpha-key-0001, quotas: {requests-per-minute: 2}}
                      - {id: k2, value: sk-alpha-key-0002}
                routes:
                  - model: chat
                    targets: [{provider: a, model: gpt-4o-mini}]
                """))) {
            awayFromMinuteBoundary();

            List<String> keys = new ArrayList<>();
            List<String> attempts = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = gateway.postJson(CHAT, BODY);
                keys.add(header(r, "x-detour-key-id"));
                attempts.add(header(r, "x-detour-attempts"));
            }
            JsonNode k1 = key(pools(gateway), "a", "k1");

            assertEquals(List.of("k1", "k1", "k2"), keys);
            assertEquals(List.of("1", "1", "1"), attempts, "k1 is passed over before the provider refuses it");
            assertEquals(2, calls(A_CHAT, A1));
            assertEquals(2, k1.at("/quota/requests_per_minute/used").asInt(), k1.toString());
            assertEquals(2, k1.at("/quota/requests_per_minute/limit").asInt(), k1.toString());
            assertTrue(k1.get("available_in_ms").asLong() > 0, "k1 is free again next minute: " + k1);
        }
    }

    @Test
    void localTokenQuotaTakesAKeyOutOnceItsTokensAreUsed() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  a:
                    type: openai
                    base-url: ORIGIN/a/v1
                    pool: {strategy: ordered}
                    keys:
                      - {id: k1, value: sk-alpha-key-0001, quotas: {tokens-per-minute: 5}}
                      - {id: k2, value: sk-alpha-key-0002}
                routes:
                  - model: chat
                    targets: [{provider: a, model: gpt-4o-mini}]
                """))) {
            awayFromMinuteBoundary();

            HttpResponse<String> first = gateway.postJson(CHAT, BODY);
            // Tokens are counted once the answer is written, which may be a moment after the client has it.
            gateway.awaitIdle();
            JsonNode k1 = key(pools(gateway), "a", "k1");
            HttpResponse<String> second = gateway.postJson(CHAT, BODY);

            assertEquals("k1", header(first, "x-detour-key-id"));
            assertEquals(7, k1.at("/quota/tokens_per_minute/used").asInt(), "usage.total_tokens was 7: " + k1);
            assertEquals("k2", header(second, "x-detour-key-id"), "k1 used 7 of its 5 tokens this minute");
        }
    }

    @Test
    void leastUsedPoolSpreadsRequestsOverKeysWithoutQuotas() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  a:
                    type: openai
                    base-url: ORIGIN/a/v1
                    pool: {strategy: least-used}
                    keys:
                      - {id: k1, value: sk-alpha-key-0001}
                      - {id: k2, value: sk-alpha-key-0002}
                routes:
                  - model: chat
                    targets: [{provider: a, model: gpt-4o-mini}]
                """))) {
            awayFromMinuteBoundary();

            List<String> keys = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                keys.add(header(gateway.postJson(CHAT, BODY), "x-detour-key-id"));
            }

            assertEquals(List.of("k1", "k2", "k1", "k2"), keys, "each request goes to the key used least");
        }
    }

    // --- 10. proactive cooling ------------------------------------------------------------------------

    @Test
    void successAnnouncingNoRequestsLeftCoolsTheKeyUntilTheAnnouncedReset() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).withHeader("Authorization", bearer(A1)).willReturn(ok()
                .withHeader("x-ratelimit-limit-requests", "3")
                .withHeader("x-ratelimit-remaining-requests", "0")
                .withHeader("x-ratelimit-reset-requests", "2s")));
        upstream.stubFor(post(urlEqualTo(A_CHAT)).withHeader("Authorization", bearer(A2)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  a:
                    type: openai
                    base-url: ORIGIN/a/v1
                    pool: {strategy: ordered}
                    keys:
                      - {id: k1, value: sk-alpha-key-0001}
                      - {id: k2, value: sk-alpha-key-0002}
                routes:
                  - model: chat
                    targets: [{provider: a, model: gpt-4o-mini}]
                """))) {

            // Timed from before the answer that cools k1 (see servesFromNextKeyAfter429...).
            long beforeCooling = System.nanoTime();
            HttpResponse<String> first = gateway.postJson(CHAT, BODY);
            HttpResponse<String> second = gateway.postJson(CHAT, BODY);
            JsonNode k1 = key(pools(gateway), "a", "k1");
            HttpResponse<String> back = sendUntil(gateway, BODY, r -> "k1".equals(header(r, "x-detour-key-id")),
                                                  Duration.ofSeconds(15));
            long backAfterMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - beforeCooling);

            assertEquals(200, first.statusCode(), first.body());
            assertEquals("k1", header(first, "x-detour-key-id"), "the announcing answer itself is served");
            assertEquals("0", header(first, "x-ratelimit-remaining-requests"), "rate-limit headers pass through");
            assertEquals("k2", header(second, "x-detour-key-id"));
            assertEquals("1", header(second, "x-detour-attempts"), "k1 was avoided, not tried");
            assertEquals("cooling", k1.get("state").asText());
            assertEquals("remaining_0", k1.get("last_error").asText());
            assertEquals(200, back.statusCode());
            assertTrue(backAfterMillis >= 1_900, "k1 came back after " + backAfterMillis + " ms (reset 2s)");
        }
    }

    // --- 11. session affinity -----------------------------------------------------------------------

    @Test
    void sessionSticksToOneKeyAndMovesOnAtOnceWhenThatKeyCools() throws Exception {
        for (String key : List.of(A1, A2, A3)) {
            upstream.stubFor(post(urlEqualTo(A_CHAT)).withHeader("Authorization", bearer(key)).willReturn(ok()));
        }
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  a:
                    type: openai
                    base-url: ORIGIN/a/v1
                    keys:
                      - {id: k1, value: sk-alpha-key-0001}
                      - {id: k2, value: sk-alpha-key-0002}
                      - {id: k3, value: sk-alpha-key-0003}
                routes:
                  - model: chat
                    affinity: session
                    targets: [{provider: a, model: gpt-4o-mini}]
                """))) {
            List<String> pinned = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                pinned.add(header(session(gateway, "alpha"), "x-detour-key-id"));
            }
            String first = pinned.get(0);
            String firstValue = "k1".equals(first) ? A1 : "k2".equals(first) ? A2 : A3;
            // From now on the pinned key announces that its window is used up: it cools after this answer.
            upstream.stubFor(post(urlEqualTo(A_CHAT)).atPriority(1).withHeader("Authorization", bearer(firstValue))
                    .willReturn(ok().withHeader("x-ratelimit-remaining-requests", "0")
                                    .withHeader("x-ratelimit-reset-requests", "30s")));
            HttpResponse<String> cooling = session(gateway, "alpha");
            int pinnedCalls = calls(A_CHAT, firstValue);

            List<HttpResponse<String>> moved = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                moved.add(session(gateway, "alpha"));
            }

            assertEquals(List.of(first, first, first, first, first), pinned,
                         "round-robin would have spread these over three keys");
            assertEquals(first, header(cooling, "x-detour-key-id"));
            String next = header(moved.get(0), "x-detour-key-id");
            assertNotEquals(first, next);
            for (HttpResponse<String> r : moved) {
                assertEquals(200, r.statusCode(), r.body());
                assertEquals(next, header(r, "x-detour-key-id"), "the session sticks to its new key");
                assertEquals("1", header(r, "x-detour-attempts"), "the cooling key is not tried first");
            }
            assertEquals(pinnedCalls, calls(A_CHAT, firstValue), "the cooled key got no further request");
        }
    }

    @Test
    void sessionSticksToOneTargetUnderWeightedRouteStrategy() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).willReturn(ok()));
        upstream.stubFor(post(urlEqualTo(B_CHAT)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config(TWO_PROVIDERS + """
                routes:
                  - model: chat
                    strategy: weighted
                    affinity: session
                    targets:
                      - {provider: a, model: gpt-4o-mini, weight: 1}
                      - {provider: b, model: gpt-4o, weight: 1}
                """))) {

            Set<String> providers = new HashSet<>();
            for (int i = 0; i < 12; i++) {
                providers.add(header(session(gateway, "alpha"), "x-detour-provider"));
            }

            assertEquals(1, providers.size(), "one session, one target: " + providers);
        }
    }

    // --- 12. context-length fallback, and client errors ------------------------------------------------

    @Test
    void contextLengthErrorIsServedByTheContextFallbackTarget() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).willReturn(json(400, "{\"error\":{\"message\":\"This model's "
                + "maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens.\","
                + "\"type\":\"invalid_request_error\",\"param\":\"messages\",\"code\":\"context_length_exceeded\"}}")));
        upstream.stubFor(post(urlEqualTo(B_CHAT)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config(TWO_PROVIDERS + """
                routes:
                  - model: chat
                    context-fallback: {provider: b, model: gpt-4.1-long}
                    targets:
                      - {provider: a, model: gpt-4o-mini}
                """))) {

            HttpResponse<String> r = gateway.postJson(CHAT, BODY);

            assertEquals(200, r.statusCode(), r.body());
            assertEquals("b", header(r, "x-detour-provider"));
            assertEquals("gpt-4.1-long", header(r, "x-detour-model"));
            assertEquals("2", header(r, "x-detour-attempts"));
            assertEquals(1, calls(A_CHAT), "no other key of the first target is tried for a prompt too long");
            assertEquals("gpt-4.1-long",
                         JSON.readTree(requests(B_CHAT).get(0).getBodyAsString()).get("model").asText());
        }
    }

    @Test
    void plainBadRequestIsReturnedToTheClientAndNeverRetried() throws Exception {
        String error = "{\"error\":{\"message\":\"Invalid value for 'temperature': expected a number from 0 to 2.\","
                       + "\"type\":\"invalid_request_error\",\"param\":\"temperature\",\"code\":null}}";
        upstream.stubFor(post(urlEqualTo(A_CHAT)).willReturn(json(400, error)));
        upstream.stubFor(post(urlEqualTo(B_CHAT)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config(TWO_PROVIDERS + """
                routes:
                  - model: chat
                    context-fallback: {provider: b, model: gpt-4.1-long}
                    targets:
                      - {provider: a, model: gpt-4o-mini}
                      - {provider: b, model: gpt-4o}
                """))) {

            HttpResponse<String> r = gateway.postJson(CHAT, BODY);

            assertEquals(400, r.statusCode(), r.body());
            assertEquals(error, r.body());
            assertEquals("1", header(r, "x-detour-attempts"));
            assertEquals(1, calls(A_CHAT), "the request is wrong: another key would not help");
            assertEquals(0, calls(B_CHAT), "nor another target");
        }
    }

    // --- 13. parameter overrides ----------------------------------------------------------------------

    @Test
    void targetParamsOverrideTheClientsFieldsAndTheModelIsMapped() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  a:
                    type: openai
                    base-url: ORIGIN/a/v1
                    keys: [{id: k1, value: sk-alpha-key-0001}]
                routes:
                  - model: chat
                    targets:
                      - provider: a
                        model: gpt-4o-mini-2024-07-18
                        params: {temperature: 0.1, seed: 7}
                """))) {
            HttpResponse<String> r = gateway.postJson(CHAT, BODY_WITH_TEMPERATURE);

            assertEquals(200, r.statusCode(), r.body());
            JsonNode sent = JSON.readTree(requests(A_CHAT).get(0).getBodyAsString());
            assertEquals(0.1, sent.get("temperature").asDouble(), 1e-9);
            assertEquals(7, sent.get("seed").asInt());
            assertEquals("gpt-4o-mini-2024-07-18", sent.get("model").asText());
            assertEquals("hi", sent.at("/messages/0/content").asText(), "the rest of the body is kept");
        }
    }

    @Test
    void fallbackTargetWithoutParamsGetsTheClientsOwnValues() throws Exception {
        upstream.stubFor(post(urlEqualTo(A_CHAT)).willReturn(serverError()));
        upstream.stubFor(post(urlEqualTo(B_CHAT)).willReturn(ok()));
        try (TestGateway gateway = TestGateway.start(config(TWO_PROVIDERS + """
                routes:
                  - model: chat
                    targets:
                      - {provider: a, model: gpt-4o-mini, params: {temperature: 0.1}}
                      - {provider: b, model: gpt-4o}
                """))) {
            HttpResponse<String> r = gateway.postJson(CHAT, BODY_WITH_TEMPERATURE);

            assertEquals(200, r.statusCode(), r.body());
            assertEquals(0.1, JSON.readTree(requests(A_CHAT).get(0).getBodyAsString()).get("temperature").asDouble(),
                         1e-9);
            JsonNode toB = JSON.readTree(requests(B_CHAT).get(0).getBodyAsString());
            assertEquals(0.9, toB.get("temperature").asDouble(), 1e-9);
            assertEquals("gpt-4o", toB.get("model").asText());
        }
    }

    // --- 14. the mock provider's scripted failures ------------------------------------------------------

    @Test
    void mockProvidersScriptedRateLimitMovesRequestsToTheNextKey() throws Exception {
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  m:
                    type: mock
                    keys:
                      - {id: k1, value: mock-key-00001}
                      - {id: k2, value: mock-key-00002}
                    mock:
                      failures:
                        - {key: k1, kind: rate-limit, retry-after: 30s}
                routes:
                  - model: chat
                    targets: [{provider: m}]
                """))) {

            HttpResponse<String> first = gateway.postJson(CHAT, BODY);
            List<String> later = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = gateway.postJson(CHAT, BODY);
                later.add(header(r, "x-detour-key-id") + "/" + header(r, "x-detour-attempts"));
            }
            JsonNode k1 = key(pools(gateway), "m", "k1");

            assertEquals(200, first.statusCode(), first.body());
            assertEquals("m", header(first, "x-detour-provider"));
            assertEquals("k2", header(first, "x-detour-key-id"));
            assertEquals("2", header(first, "x-detour-attempts"));
            assertEquals(List.of("k2/1", "k2/1", "k2/1"), later);
            assertEquals("cooling", k1.get("state").asText());
            assertEquals("rate_limit_exceeded", k1.get("last_error").asText());
            assertTrue(k1.get("available_in_ms").asLong() > 25_000, k1.toString());
        }
    }

    @Test
    void mockProvidersScriptedOverloadMovesRequestsToTheNextTarget() throws Exception {
        try (TestGateway gateway = TestGateway.start(config("""
                providers:
                  busy:
                    type: mock
                    keys: [{id: k1, value: mock-key-00001}]
                    mock:
                      failures:
                        - {key: "*", kind: overloaded}
                  spare:
                    type: mock
                routes:
                  - model: chat
                    targets: [{provider: busy}, {provider: spare}]
                """))) {

            HttpResponse<String> r = gateway.postJson(CHAT, BODY);

            assertEquals(200, r.statusCode(), r.body());
            assertEquals("spare", header(r, "x-detour-provider"));
            assertEquals("2", header(r, "x-detour-attempts"));
            assertEquals("available", key(pools(gateway), "busy", "k1").get("state").asText(),
                         "an overload is the provider's, not the key's");
        }
    }

    // --- helpers ----------------------------------------------------------------------------------------

    private static String config(String providersAndRoutes) {
        return ("""
                upstream:
                  timeouts: {connect: 1s, first-byte: 5s, idle: 5s, total: 10s}
                """ + providersAndRoutes).replace("ORIGIN", "http://127.0.0.1:" + upstream.port());
    }

    /** The official OpenAI SDK pointed at the gateway, with its own retries off so it notices any 429. */
    private record Sdk(OpenAIClient client) implements AutoCloseable {
        Sdk(TestGateway gateway) {
            this(gateway.openAiClient());
        }

        @Override
        public void close() {
            client.close();
        }
    }

    private static HttpResponse<String> session(TestGateway gateway, String session)
            throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(gateway.uri(CHAT))
                .timeout(Duration.ofSeconds(10))
                .header("content-type", "application/json")
                .header("x-detour-session", session)
                .POST(HttpRequest.BodyPublishers.ofString(BODY))
                .build();
        HttpResponse<String> r = gateway.http().send(request, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r;
    }

    /** Sends {@code n} requests at once and returns their answers, waiting at most 10 s. */
    private static List<HttpResponse<String>> parallel(TestGateway gateway, String body, int n) throws Exception {
        List<CompletableFuture<HttpResponse<String>>> pending = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            HttpRequest request = HttpRequest.newBuilder(gateway.uri(CHAT))
                    .timeout(Duration.ofSeconds(10))
                    .header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build();
            pending.add(gateway.http().sendAsync(request, HttpResponse.BodyHandlers.ofString()));
        }
        CompletableFuture.allOf(pending.toArray(new CompletableFuture<?>[0])).get(10, TimeUnit.SECONDS);
        List<HttpResponse<String>> out = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> f : pending) {
            out.add(f.join());
        }
        return out;
    }

    /**
     * Sends {@code body} every {@link #POLL} until an answer satisfies {@code done}; every answer on the
     * way must be a 200. Fails after {@code within}.
     */
    private static HttpResponse<String> sendUntil(TestGateway gateway, String body,
                                                  Predicate<HttpResponse<String>> done, Duration within)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        List<String> seen = new ArrayList<>();
        while (true) {
            HttpResponse<String> r = gateway.postJson(CHAT, BODY_WITH_TEMPERATURE);
            assertEquals(200, r.statusCode(), r.body());
            if (done.test(r)) {
                return r;
            }
            seen.add(header(r, "x-detour-provider") + "/" + header(r, "x-detour-key-id"));
            if (System.nanoTime() - deadline > 0) {
                fail("not done within " + within + "; answers came from " + seen);
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long left = nanoTime - System.nanoTime();
        if (left > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    /** Local quotas count per wall-clock minute: keep a test from straddling the turn of a minute. */
    private static void awayFromMinuteBoundary() throws InterruptedException {
        long intoMinute = System.currentTimeMillis() % 60_000;
        if (intoMinute > 55_000) {
            Thread.sleep(60_000 - intoMinute + 100);
        }
    }

    private static JsonNode pools(TestGateway gateway) throws IOException, InterruptedException {
        HttpResponse<String> r = gateway.get("/admin/pools");
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private static JsonNode key(JsonNode pools, String provider, String id) {
        for (JsonNode pool : pools.get("pools")) {
            if (provider.equals(pool.get("provider").asText())) {
                for (JsonNode k : pool.get("keys")) {
                    if (id.equals(k.get("id").asText())) {
                        return k;
                    }
                }
            }
        }
        fail("no key " + provider + "/" + id + " in " + pools);
        return null;
    }

    private static JsonNode error(HttpResponse<String> r) throws IOException {
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertNotNull(error, "an OpenAI error envelope: " + r.body());
        return error;
    }

    private static int calls(String path) {
        return requests(path).size();
    }

    private static int calls(String path, String key) {
        return upstream.findAll(postRequestedFor(urlEqualTo(path)).withHeader("Authorization", bearer(key))).size();
    }

    private static List<LoggedRequest> requests(String path) {
        return upstream.findAll(postRequestedFor(urlEqualTo(path)));
    }

    private static StringValuePattern bearer(String key) {
        return equalTo("Bearer " + key);
    }

    private static String header(HttpResponse<?> r, String name) {
        return r.headers().firstValue(name).orElse("<absent>");
    }

    private static ResponseDefinitionBuilder json(int status, String body) {
        return aResponse().withStatus(status).withHeader("content-type", "application/json").withBody(body);
    }

    private static ResponseDefinitionBuilder ok() {
        return json(200, OK_BODY);
    }

    private static ResponseDefinitionBuilder eventStream() {
        return aResponse().withStatus(200).withHeader("content-type", "text/event-stream").withBody(EVENTS);
    }

    private static ResponseDefinitionBuilder rateLimited(String retryAfterSeconds) {
        return json(429, "{\"error\":{\"message\":\"Rate limit reached for gpt-4o-mini in organization org-secret "
                         + "on requests per min (RPM): Limit 3, Used 3, Requested 1.\",\"type\":\"requests\","
                         + "\"param\":null,\"code\":\"rate_limit_exceeded\"}}")
                .withHeader("retry-after", retryAfterSeconds);
    }

    private static ResponseDefinitionBuilder insufficientQuota() {
        return json(429, "{\"error\":{\"message\":\"You exceeded your current quota, please check your plan and "
                         + "billing details.\",\"type\":\"insufficient_quota\",\"param\":null,"
                         + "\"code\":\"insufficient_quota\"}}");
    }

    private static ResponseDefinitionBuilder tooLarge() {
        return json(429, "{\"error\":{\"message\":\"Request too large for gpt-4o-mini in organization org-secret on "
                         + "tokens per min (TPM): Limit 30000, Requested 52000. The input or output tokens must be "
                         + "reduced in order to run successfully.\",\"type\":\"tokens\",\"param\":null,"
                         + "\"code\":\"rate_limit_exceeded\"}}");
    }

    private static ResponseDefinitionBuilder invalidKey() {
        return json(401, "{\"error\":{\"message\":\"Incorrect API key provided: sk-alph***0001.\","
                         + "\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}");
    }

    private static ResponseDefinitionBuilder serverError() {
        return json(500, "{\"error\":{\"message\":\"The server had an error while processing your request.\","
                         + "\"type\":\"server_error\",\"param\":null,\"code\":null}}");
    }
}
