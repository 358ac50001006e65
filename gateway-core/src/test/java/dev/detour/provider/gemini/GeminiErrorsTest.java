package dev.detour.provider.gemini;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.provider.UpstreamVerdict;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class GeminiErrorsTest {

    private static final GeminiAdapter ADAPTER = new GeminiAdapter(GeminiFixtures.CLOCK);
    private static final Instant NOW = GeminiFixtures.CLOCK.instant();
    private static final long NO_HINT = UpstreamVerdict.NO_HINT;
    /** From 2025-11-21T04:40Z (20:40 the day before in Los Angeles, PST) to 08:00Z: 3 h 20 min. */
    private static final long UNTIL_PACIFIC_MIDNIGHT = 12_000_000_000_000L;

    @ParameterizedTest
    @CsvSource({
        "429-per-minute, 429, RATE_LIMITED, 26000000000, quota_per_minute",
        "429-per-day, 429, QUOTA_EXHAUSTED, " + UNTIL_PACIFIC_MIDNIGHT + ", quota_per_day",
        "429-bare, 429, RATE_LIMITED, -1, resource_exhausted",
        "429-decimal-retry, 429, RATE_LIMITED, 1500000000, resource_exhausted",
        "400-api-key-invalid, 400, KEY_INVALID, -1, api_key_invalid",
        "400-billing, 400, QUOTA_EXHAUSTED, -1, billing_required",
        "400-location, 400, KEY_INVALID, -1, location_not_supported",
        "400-token-limit, 400, CONTEXT_TOO_LONG, -1, context_length_exceeded",
        "400-invalid-argument, 400, CLIENT_ERROR, -1, invalid_argument",
        "403-permission-denied, 403, KEY_INVALID, -1, permission_denied",
        "404-not-found, 404, MODEL_NOT_FOUND, -1, not_found",
        "500-internal, 500, SERVER_ERROR, -1, internal",
        "503-unavailable, 503, OVERLOADED, 2000000000, unavailable",
        "502-html, 502, SERVER_ERROR, -1, status_502"})
    void classifiesErrorLikeGoldenFixture(String name, int status, UpstreamVerdict.Kind kind, long waitNanos,
                                          String detail) {
        byte[] body = GeminiFixtures.bytes("errors/" + name + ".json");

        UpstreamVerdict verdict = ADAPTER.classify(status, Headers.empty(), body, NOW);

        assertEquals(new UpstreamVerdict(kind, waitNanos, detail), verdict);
    }

    @ParameterizedTest
    @CsvSource({
        "429-per-minute, 429, 429, rate_limit_error, rate_limit_exceeded, 26, You exceeded your current quota",
        "429-per-day, 429, 429, rate_limit_error, insufficient_quota, 12000, You exceeded your current quota",
        "429-bare, 429, 429, rate_limit_error, rate_limit_exceeded, , Resource has been exhausted",
        "400-api-key-invalid, 400, 400, invalid_request_error, invalid_argument, , The provider rejected the gateway's key",
        "400-token-limit, 400, 400, invalid_request_error, context_length_exceeded, , exceeds the maximum number",
        "400-invalid-argument, 400, 400, invalid_request_error, invalid_argument, , Invalid value at",
        "403-permission-denied, 403, 403, permission_error, permission_denied, , The provider rejected the gateway's key",
        "404-not-found, 404, 404, not_found_error, model_not_found, , models/gemini-9-flash is not found",
        "500-internal, 500, 502, upstream_error, internal, , The provider failed: An internal error",
        "503-unavailable, 503, 503, service_unavailable_error, unavailable, 2, The model is overloaded",
        "502-html, 502, 502, upstream_error, status_502, , without an error description"})
    void answersClientInOpenAiEnvelope(String name, int status, int clientStatus, String type, String code,
                                       String retryAfter, String messageStart) {
        byte[] body = GeminiFixtures.bytes("errors/" + name + ".json");
        UpstreamVerdict verdict = ADAPTER.classify(status, Headers.empty(), body, NOW);

        GatewayResponse.Full response = ADAPTER.clientError(status, Headers.empty(), body, verdict);

        assertEquals(clientStatus, response.status());
        assertEquals("application/json", response.headers().get("content-type"));
        assertEquals(retryAfter, response.headers().get("retry-after"));
        JsonNode error = GeminiFixtures.tree(response.body()).get("error");
        assertEquals(type, error.get("type").asText());
        assertEquals(code, error.get("code").asText());
        assertTrue(error.get("param").isNull());
        assertTrue(error.get("message").asText().contains(messageStart), error.get("message").asText());
    }

    @Test
    void scrubsKeysFromMessages() {
        byte[] body = GeminiFixtures.bytes("errors/400-invalid-argument.json");
        UpstreamVerdict verdict = ADAPTER.classify(400, Headers.empty(), body, NOW);

        String message = GeminiFixtures.tree(ADAPTER.clientError(400, Headers.empty(), body, verdict).body())
                .at("/error/message").asText();

        assertFalse(message.contains("AIzaSyDUMMY"), message);
        assertTrue(message.contains("alt=sse&key=<redacted>"), message);
    }

    @Test
    void scrubsBareKeysToo() {
        assertEquals("bad key <redacted> here", GeminiErrors.scrub("bad key AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv here"));
        assertNull(GeminiErrors.scrub(null));
    }

    @Test
    void fallsBackToRetryAfterHeaderThenMessage() {
        byte[] noDetails = "{\"error\":{\"code\":429,\"status\":\"RESOURCE_EXHAUSTED\",\"message\":\"Slow down. Please retry in 3.5s.\"}}"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);

        UpstreamVerdict withHeader = ADAPTER.classify(429, Headers.of("retry-after", "7"), noDetails, NOW);
        UpstreamVerdict fromMessage = ADAPTER.classify(429, Headers.empty(), noDetails, NOW);

        assertEquals(7_000_000_000L, withHeader.waitNanos());
        assertEquals(3_500_000_000L, fromMessage.waitNanos());
    }

    @Test
    void treatsSuccessAsOk() {
        assertEquals(UpstreamVerdict.OK, ADAPTER.classify(200, Headers.empty(), new byte[0], NOW));
    }

    @Test
    void parsesProtobufDurations() {
        assertEquals(26_000_000_000L, GeminiErrors.protoDuration("26s"));
        assertEquals(1_500_000_000L, GeminiErrors.protoDuration("1.500s"));
        assertEquals(NO_HINT, GeminiErrors.protoDuration("26"));
        assertEquals(NO_HINT, GeminiErrors.protoDuration("s"));
        assertEquals(NO_HINT, GeminiErrors.protoDuration(null));
    }

    @Test
    void countsToMidnightInLosAngelesAcrossDaylightSaving() {
        Instant summer = Instant.parse("2025-07-01T06:59:00Z"); // 23:59 PDT

        assertEquals(Duration.ofMinutes(1).toNanos(), GeminiErrors.untilPacificMidnight(summer));
        assertEquals(UNTIL_PACIFIC_MIDNIGHT, GeminiErrors.untilPacificMidnight(NOW));
    }
}
