package dev.detour.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** OpenAI's signals, per shared/reference/providers.md sections 2.7, 2.8 and 10. */
class OpenAiAdapterClassifyTest {

    private static final Instant NOW = Instant.parse("2026-11-22T10:00:00Z");
    private static final OpenAiAdapter ADAPTER = OpenAiAdapter.INSTANCE;

    private static byte[] error(String code, String type, String message) {
        return ("{\"error\":{\"message\":\"" + message + "\",\"type\":" + (type == null ? "null" : "\"" + type + "\"")
                + ",\"param\":null,\"code\":" + (code == null ? "null" : "\"" + code + "\"") + "}}")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static UpstreamVerdict classify(int status, Headers headers, byte[] body) {
        return ADAPTER.classify(status, headers, body, NOW);
    }

    @Test
    void rateLimitWithRetryAfter() {
        UpstreamVerdict v = classify(429, Headers.of("retry-after", "2"),
                                     error("rate_limit_exceeded", "requests", "Rate limit reached"));

        assertEquals(UpstreamVerdict.Kind.RATE_LIMITED, v.kind());
        assertEquals(2_000_000_000L, v.waitNanos());
        assertEquals("rate_limit_exceeded", v.detail());
    }

    @Test
    void rateLimitHintFromExhaustedBucketReset() {
        Headers h = Headers.of("x-ratelimit-remaining-requests", "10", "x-ratelimit-reset-requests", "1s",
                               "x-ratelimit-remaining-tokens", "0", "x-ratelimit-reset-tokens", "6m0s");

        UpstreamVerdict v = classify(429, h, error("rate_limit_exceeded", "tokens", "Rate limit reached"));

        assertEquals(360_000_000_000L, v.waitNanos(), "the exhausted bucket's reset, not the other one");
    }

    @Test
    void rateLimitHintFromMessage() {
        UpstreamVerdict v = classify(429, Headers.empty(),
                                     error("rate_limit_exceeded", "tokens", "Please try again in 120ms."));

        assertEquals(120_000_000L, v.waitNanos());
    }

    @Test
    void slowDownIsRateLimited() {
        assertEquals(UpstreamVerdict.Kind.RATE_LIMITED,
                     classify(429, Headers.empty(), error("slow_down", "rate_limit_error", "Slow down")).kind());
    }

    @Test
    void insufficientQuotaAndCreditsAreExhaustion() {
        assertEquals(UpstreamVerdict.Kind.QUOTA_EXHAUSTED, classify(429, Headers.empty(),
                error("insufficient_quota", "insufficient_quota", "You exceeded your current quota")).kind());
        assertEquals(UpstreamVerdict.Kind.QUOTA_EXHAUSTED, classify(429, Headers.empty(),
                error("credit_balance_exhausted", null, "Credits gone")).kind());
        assertEquals(UpstreamVerdict.Kind.QUOTA_EXHAUSTED, classify(402, Headers.empty(),
                error(null, null, "Insufficient Balance")).kind());
    }

    @Test
    void requestTooLargeForTheWindowSkipsThePool() {
        UpstreamVerdict v = classify(429, Headers.empty(), error("rate_limit_exceeded", "tokens",
                "Request too large for gpt-4o on tokens per min (TPM): Limit 30000, Requested 45000."));

        assertEquals(UpstreamVerdict.Kind.TOO_LARGE_FOR_POOL, v.kind());
    }

    @Test
    void rejectedKeysAreInvalid() {
        assertEquals(UpstreamVerdict.Kind.KEY_INVALID,
                     classify(401, Headers.empty(), error("invalid_api_key", "invalid_request_error", "x")).kind());
        assertEquals(UpstreamVerdict.Kind.KEY_INVALID, classify(403, Headers.empty(),
                error("unsupported_country_region_territory", "request_forbidden", "x")).kind());
    }

    @Test
    void contextLengthIsItsOwnKind() {
        assertEquals(UpstreamVerdict.Kind.CONTEXT_TOO_LONG, classify(400, Headers.empty(),
                error("context_length_exceeded", "invalid_request_error", "too long")).kind());
        assertEquals(UpstreamVerdict.Kind.CLIENT_ERROR, classify(400, Headers.empty(),
                error(null, "invalid_request_error", "bad")).kind());
    }

    @Test
    void overloadAndServerErrors() {
        UpstreamVerdict overloaded = classify(503, Headers.of("retry-after", "3"),
                error("server_is_overloaded", "service_unavailable_error", "busy"));

        assertEquals(UpstreamVerdict.Kind.OVERLOADED, overloaded.kind());
        assertEquals(3_000_000_000L, overloaded.waitNanos());
        assertEquals(UpstreamVerdict.Kind.SERVER_ERROR, classify(500, Headers.empty(), new byte[0]).kind());
        assertEquals(UpstreamVerdict.Kind.SERVER_ERROR, classify(502, Headers.empty(),
                "<html>bad gateway</html>".getBytes(StandardCharsets.UTF_8)).kind());
        assertEquals(UpstreamVerdict.Kind.MODEL_NOT_FOUND, classify(404, Headers.empty(),
                error("model_not_found", "invalid_request_error", "no such model")).kind());
    }

    @Test
    void successWithAnEmptyBucketCoolsProactively() {
        Headers h = Headers.of("x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "20ms");

        UpstreamVerdict v = classify(200, h, new byte[0]);

        assertEquals(UpstreamVerdict.Kind.SUCCESS, v.kind());
        assertEquals(20_000_000L, v.waitNanos());
        assertEquals(UpstreamVerdict.OK, classify(200, Headers.of("x-ratelimit-remaining-requests", "5"), new byte[0]));
    }

    @Test
    void clientErrorKeepsOpenAiBodiesAndWrapsOthers() throws Exception {
        byte[] openai = error("rate_limit_exceeded", "requests", "Rate limit reached");
        GatewayResponse.Full passed = ADAPTER.clientError(429, Headers.of("retry-after", "2"), openai,
                                                          UpstreamVerdict.of(UpstreamVerdict.Kind.RATE_LIMITED, "x"));
        GatewayResponse.Full wrapped = ADAPTER.clientError(502, Headers.of("content-type", "text/html",
                                                                           "retry-after", "5"),
                "<html>oops</html>".getBytes(StandardCharsets.UTF_8),
                UpstreamVerdict.of(UpstreamVerdict.Kind.SERVER_ERROR, "status_502"));

        assertEquals(openai, passed.body());
        assertEquals(502, wrapped.status());
        assertEquals("application/json", wrapped.headers().get("content-type"));
        assertEquals("5", wrapped.headers().get("retry-after"));
        String message = new ObjectMapper().readTree(wrapped.body()).at("/error/message").asText();
        assertTrue(message.contains("HTTP 502") && !message.contains("oops"), message);
    }
}
