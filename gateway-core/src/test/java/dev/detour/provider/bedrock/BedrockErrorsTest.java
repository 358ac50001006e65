package dev.detour.provider.bedrock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.provider.UpstreamVerdict;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class BedrockErrorsTest {

    private static final Instant NOW = Instant.parse("2026-11-22T12:30:45Z");
    private static final BedrockAdapter ADAPTER = BedrockAdapter.INSTANCE;

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (JsonNode c : BedrockFixtures.json("errors/cases.json")) {
            cases.add(Arguments.of(c.get("name").asText(), c));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void classifiesAndTranslatesDocumentedError(String name, JsonNode c) {
        int status = c.get("status").asInt();
        Headers headers = c.get("header").isNull()
                ? Headers.of("x-amzn-requestid", "req-1")
                : Headers.of("x-amzn-ErrorType", c.get("header").asText(), "x-amzn-requestid", "req-1");
        byte[] body = (c.get("body").isTextual() ? c.get("body").asText() : c.get("body").toString())
                .getBytes(StandardCharsets.UTF_8);

        UpstreamVerdict verdict = ADAPTER.classify(status, headers, body, NOW);
        GatewayResponse.Full client = ADAPTER.clientError(status, headers, body, verdict);

        assertEquals(c.get("kind").asText(), verdict.kind().name());
        assertEquals(c.get("detail").asText(), verdict.detail());
        assertEquals(UpstreamVerdict.NO_HINT, verdict.waitNanos(), "Bedrock gives no wait hint");
        assertEquals(c.get("clientStatus").asInt(), client.status());
        JsonNode error = BedrockFixtures.tree(client.body()).get("error");
        assertEquals(c.get("clientType").asText(), error.get("type").asText());
        assertEquals(c.get("clientCode").asText(), error.get("code").asText());
        assertEquals("req-1", client.headers().get("x-detour-upstream-request-id"));
        String upstreamMessage = c.get("body").path("message").asText("");
        if (!upstreamMessage.isEmpty()) {
            String firstLine = upstreamMessage.split("\n")[0];
            assertTrue(error.get("message").asText().contains(firstLine), error.get("message").asText());
        }
    }

    @Test
    void keepsSignedHeaderValuesOutOfKeyErrorMessages() {
        JsonNode c = BedrockFixtures.json("errors/cases.json").get(6);
        byte[] body = c.get("body").toString().getBytes(StandardCharsets.UTF_8);
        Headers headers = Headers.of("x-amzn-errortype", "InvalidSignatureException");

        UpstreamVerdict verdict = ADAPTER.classify(403, headers, body, NOW);
        GatewayResponse.Full client = ADAPTER.clientError(403, headers, body, verdict);

        String message = BedrockFixtures.tree(client.body()).get("error").get("message").asText();
        assertFalse(message.contains("FQoGZXIvYXdzEXAMPLETOKEN"), message);
        assertTrue(message.startsWith("The provider rejected the gateway's key (InvalidSignatureException): "),
                   message);
    }

    @Test
    void honoursRetryAfterFromAProxyInFront() {
        Headers headers = Headers.of("x-amzn-errortype", "ThrottlingException", "retry-after", "2");

        UpstreamVerdict verdict = ADAPTER.classify(429, headers, "{}".getBytes(StandardCharsets.UTF_8), NOW);

        assertEquals(2_000_000_000L, verdict.waitNanos());
    }

    @Test
    void readsNoLimitsFromSuccessfulAnswers() {
        assertEquals(UpstreamVerdict.OK, ADAPTER.classify(200, Headers.empty(), new byte[0], NOW));
    }
}
