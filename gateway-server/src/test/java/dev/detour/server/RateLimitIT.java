package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.detour.config.KeyHash;
import dev.detour.server.testing.TestGateway;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Rate limits through the real server, in front of the mock provider: request and token buckets per client,
 * limits by tier, shadow mode, and the OpenAI Java SDK honouring our {@code Retry-After}.
 */
class RateLimitIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String FIVE = "sk-detour-it-five-0000000000000000";
    private static final String TPM = "sk-detour-it-tpm-00000000000000000";
    private static final String FREE = "sk-detour-it-free-0000000000000000";
    private static final String PRO = "sk-detour-it-pro-00000000000000000";
    private static final String SHADOW = "sk-detour-it-shadow-00000000000000";
    private static final String SDK = "sk-detour-it-sdk-00000000000000000";
    private static final String WARM = "sk-detour-it-warm-0000000000000000";
    private static final String SETTLE = "sk-detour-it-settle-00000000000000";

    private static TestGateway gateway;

    @BeforeAll
    static void start() {
        gateway = TestGateway.start("""
                providers:
                  mock:
                    type: mock
                routes:
                  - model: gpt-4o-mini
                    targets:
                      - provider: mock
                auth:
                  enabled: true
                limits:
                  - name: free-rpm
                    scope: client
                    requests: {capacity: 2, per: 1m}
                    match: {tiers: [free]}
                  - name: pro-rpm
                    scope: client
                    requests: {capacity: 4, per: 1m}
                    match: {tiers: ["pro*"]}
                  - name: trial-rpm
                    scope: client
                    requests: {capacity: 1, per: 1m}
                    shadow: true
                    match: {clients: [shadow]}
                clients:
                  - name: five
                    key-hash: %s
                    limits:
                      - name: five-rpm
                        requests: {capacity: 5, per: 1m}
                  - name: tpm
                    key-hash: %s
                    limits:
                      - name: tpm-tokens
                        tokens: {capacity: 3000, per: 1m}
                  - name: free
                    key-hash: %s
                    tier: free
                  - name: pro
                    key-hash: %s
                    tier: pro
                  - name: shadow
                    key-hash: %s
                  - name: sdk
                    key-hash: %s
                    limits:
                      - name: sdk-rps
                        requests: {capacity: 1, per: 2s}
                  - name: warm
                    key-hash: %s
                  - name: settle
                    key-hash: %s
                    limits:
                      - name: settle-tokens
                        tokens: {capacity: 1000, per: 24h}
                """.formatted(hash(FIVE), hash(TPM), hash(FREE), hash(PRO), hash(SHADOW), hash(SDK), hash(WARM),
                              hash(SETTLE)));
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void aClientLimitedToFivePerMinuteGetsItsSixthRefused() throws Exception {
        long start = System.nanoTime();
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> ok = chat(FIVE, "hello");
            assertEquals(200, ok.statusCode(), ok.body());
            assertEquals("5", header(ok, "x-ratelimit-limit-requests"));
            assertEquals(Integer.toString(4 - i), header(ok, "x-ratelimit-remaining-requests"));
            assertFalse(header(ok, "x-ratelimit-reset-requests").isEmpty());
        }

        HttpResponse<String> refused = chat(FIVE, "hello");
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertEquals(429, refused.statusCode(), refused.body());
        // One request refills every 12 s from the first one: the wait is 12 s less the time the six took, which is a
        // few milliseconds on a quiet machine and may be more on a busy one.
        long retryMs = Long.parseLong(header(refused, "retry-after-ms"));
        assertTrue(retryMs <= 12_000 && retryMs >= 12_000 - elapsedMs - 1,
                   "retry-after-ms " + retryMs + " after " + elapsedMs + " ms");
        assertEquals(Long.toString((retryMs + 999) / 1000), header(refused, "retry-after"),
                     "retry-after is the same wait in whole seconds, rounded up");
        assertEquals("5", header(refused, "x-ratelimit-limit-requests"));
        assertEquals("0", header(refused, "x-ratelimit-remaining-requests"));
        assertTrue(header(refused, "x-ratelimit-reset-requests").matches("(1m0s|[0-9.]+s)"),
                   header(refused, "x-ratelimit-reset-requests"));
        JsonNode error = JSON.readTree(refused.body()).get("error");
        assertEquals("rate_limit_error", error.get("type").asText());
        assertEquals("rate_limit_exceeded", error.get("code").asText());
        assertTrue(error.get("message").asText().startsWith(
                "limit 'five-rpm': client 'five' exceeded 5 requests/min (used 6); resets in "),
                   error.get("message").asText());
    }

    @Test
    void aTokensPerMinuteLimitTripsOnALargePrompt() throws Exception {
        String large = "hello ".repeat(1_500);

        HttpResponse<String> small = chat(TPM, "hi");
        HttpResponse<String> first = chat(TPM, large);
        // Settled to the usage it reported (more than its estimate) once written: then the second is short by about
        // 800 tokens, 16 s of refill, rather than by the few tokens an unsettled reservation leaves.
        gateway.awaitIdle();
        HttpResponse<String> second = chat(TPM, large);

        assertEquals(200, small.statusCode(), small.body());
        assertEquals("3000", header(small, "x-ratelimit-limit-tokens"));
        assertTrue(Long.parseLong(header(small, "x-ratelimit-remaining-tokens")) > 2500);
        assertEquals(200, first.statusCode(), first.body());
        assertEquals(429, second.statusCode(), second.body());
        assertTrue(Long.parseLong(header(second, "retry-after")) >= 1);
        String message = JSON.readTree(second.body()).at("/error/message").asText();
        assertTrue(message.startsWith("limit 'tpm-tokens': client 'tpm' exceeded 3000 tokens/min (used "), message);
    }

    @Test
    void settlesTheReservationToTheUsageTheUpstreamReported() throws Exception {
        // Each request reserves about 507 tokens (a 1-token prompt, framing, max_tokens 500) of a bucket of 1000
        // that barely refills; the mock uses about 20. Without settlement the second could not pass.
        HttpResponse<String> first = chat(SETTLE, "hi", 500);
        gateway.awaitIdle(); // the settlement runs once the first response is written, maybe after the client read it
        HttpResponse<String> second = chat(SETTLE, "hi", 500);

        assertEquals(200, first.statusCode(), first.body());
        assertEquals("493", header(first, "x-ratelimit-remaining-tokens"));
        assertEquals(200, second.statusCode(), second.body());
        long remaining = Long.parseLong(header(second, "x-ratelimit-remaining-tokens"));
        assertTrue(remaining > 400 && remaining < 493, "1000, less the first's actual usage, less 507: " + remaining);
    }

    @Test
    void tiersGetDifferentLimits() throws Exception {
        int free = admitted(FREE, 4);
        int pro = admitted(PRO, 6);

        assertEquals(2, free);
        assertEquals(4, pro);
    }

    @Test
    void aShadowLimitReportsWithoutRefusing() throws Exception {
        HttpResponse<String> first = chat(SHADOW, "hi");
        HttpResponse<String> second = chat(SHADOW, "hi");

        assertEquals(200, first.statusCode());
        assertEquals(200, second.statusCode(), second.body());
        assertTrue(first.headers().firstValue("x-detour-ratelimit-shadow").isEmpty());
        assertEquals("trial-rpm", header(second, "x-detour-ratelimit-shadow"));
    }

    @Test
    void theOpenAiSdkRetriesAfterOurRetryAfter() throws Exception {
        List<Integer> statuses = new CopyOnWriteArrayList<>();
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder()
                .model("gpt-4o-mini")
                .addUserMessage("hello from the sdk")
                .build();
        // Load the SDK's classes first, with an unlimited client, so that the timed call starts at once.
        OpenAIClient warm = OpenAIOkHttpClient.builder().baseUrl(gateway.baseUrl() + "/v1").apiKey(WARM).build();
        warm.chat().completions().create(params);
        warm.close();
        OpenAIClient client = OpenAIOkHttpClient.builder()
                .baseUrl(gateway.baseUrl() + "/v1")
                .apiKey(SDK)
                .maxRetries(1)
                .timeout(Duration.ofSeconds(10))
                .addInterceptor(chain -> {
                    okhttp3.Response response = chain.proceed(chain.request());
                    statuses.add(response.code());
                    return response;
                })
                .build();
        try {
            // Timed from before the request that takes the one token: it comes back 2 s after that request at the
            // earliest, however long the machine takes between the two calls.
            long start = System.nanoTime();
            HttpResponse<String> drain = chat(SDK, "use up the one request of these two seconds");
            assertEquals(200, drain.statusCode(), drain.body());

            ChatCompletion completion = client.chat().completions().create(params);

            long elapsedMs = (System.nanoTime() - start) / 1_000_000;
            assertFalse(completion.choices().isEmpty());
            assertEquals(List.of(429, 200), statuses, "two requests reached the gateway");
            // The SDK's own backoff would retry after at most a second, and be refused again.
            assertTrue(elapsedMs >= 1_900 && elapsedMs < 10_000, "retried after about 2 s: " + elapsedMs + " ms");
        } finally {
            client.close();
        }
    }

    private static int admitted(String key, int n) throws Exception {
        int ok = 0;
        for (int i = 0; i < n; i++) {
            ok += chat(key, "hi").statusCode() == 200 ? 1 : 0;
        }
        return ok;
    }

    private static HttpResponse<String> chat(String key, String text) throws Exception {
        return chat(key, text, 10);
    }

    private static HttpResponse<String> chat(String key, String text, int maxTokens) throws Exception {
        String body = JSON.writeValueAsString(JSON.createObjectNode()
                .put("model", "gpt-4o-mini")
                .put("max_tokens", maxTokens)
                .set("messages", JSON.createArrayNode().add(JSON.createObjectNode()
                        .put("role", "user")
                        .put("content", text))));
        HttpRequest request = HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(20))
                .header("content-type", "application/json")
                .header("authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        return gateway.http().send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static String header(HttpResponse<String> response, String name) {
        return response.headers().firstValue(name).orElse("");
    }

    private static String hash(String key) {
        return KeyHash.of(key).text();
    }
}
