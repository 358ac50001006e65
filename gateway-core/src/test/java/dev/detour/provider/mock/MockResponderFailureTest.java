package dev.detour.provider.mock;

import static dev.detour.provider.mock.MockFixtures.body;
import static dev.detour.provider.mock.MockFixtures.json;
import static dev.detour.provider.mock.MockFixtures.responder;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.detour.api.Endpoint;
import dev.detour.config.MockFailureConfig;
import dev.detour.config.MockFailureConfig.Kind;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class MockResponderFailureTest {

    private static final String CHAT = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    @Test
    void rateLimitAnswers429WithRetryHeadersAndOpenAiBody() {
        MockResponder mock = responder(Duration.ofMillis(30), 0, 16,
                                       new MockFailureConfig("k1", Kind.RATE_LIMIT, Duration.ofMillis(1500), 3));

        MockReply reply = mock.reply(Endpoint.CHAT_COMPLETIONS, "gpt-mock", "k1", true, body(CHAT));

        assertEquals(429, reply.status());
        assertFalse(reply.streamed(), "failures are never streamed");
        assertEquals(Duration.ofMillis(30), reply.delay());
        assertEquals("application/json", reply.headers().get("content-type"));
        assertEquals("2", reply.headers().get("retry-after"), "whole seconds, rounded up");
        assertEquals("1500", reply.headers().get("retry-after-ms"));
        assertEquals("3", reply.headers().get("x-ratelimit-limit-requests"));
        assertEquals("0", reply.headers().get("x-ratelimit-remaining-requests"));
        assertEquals("1.5s", reply.headers().get("x-ratelimit-reset-requests"));
        JsonNode error = json(reply.body()).get("error");
        assertEquals("requests", error.get("type").asText());
        assertEquals("rate_limit_exceeded", error.get("code").asText());
        assertTrue(error.get("param").isNull());
        assertEquals("Rate limit reached for gpt-mock (mock key k1) on requests per min (RPM): Limit 3, Used 3, "
                     + "Requested 1. Please try again in 1.5s.", error.get("message").asText());
    }

    @Test
    void rateLimitWithoutRetryAfterSendsNoRetryHeaders() {
        MockResponder mock = responder(new MockFailureConfig("k1", Kind.RATE_LIMIT, Duration.ZERO, 0));

        MockReply reply = mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, body(CHAT));

        assertEquals(429, reply.status());
        assertNull(reply.headers().get("retry-after"));
        assertNull(reply.headers().get("retry-after-ms"));
        assertEquals("0s", reply.headers().get("x-ratelimit-reset-requests"));
        assertFalse(json(reply.body()).at("/error/message").asText().contains("try again"));
    }

    @Test
    void insufficientQuotaAnswers429QuotaError() {
        MockReply reply = failWith(Kind.INSUFFICIENT_QUOTA);

        assertEquals(429, reply.status());
        JsonNode error = json(reply.body()).get("error");
        assertEquals("insufficient_quota", error.get("type").asText());
        assertEquals("insufficient_quota", error.get("code").asText());
        assertEquals("You exceeded your current quota, please check your plan and billing details.",
                     error.get("message").asText());
        assertNull(reply.headers().get("retry-after"));
    }

    @Test
    void invalidKeyAnswers401NamingTheKeyIdOnly() {
        MockReply reply = failWith(Kind.INVALID_KEY);

        assertEquals(401, reply.status());
        JsonNode error = json(reply.body()).get("error");
        assertEquals("invalid_request_error", error.get("type").asText());
        assertEquals("invalid_api_key", error.get("code").asText());
        assertEquals("Incorrect API key provided: (mock key k1).", error.get("message").asText());
    }

    @Test
    void serverErrorAnswers500() {
        MockReply reply = failWith(Kind.SERVER_ERROR);

        assertEquals(500, reply.status());
        assertEquals("server_error", json(reply.body()).at("/error/type").asText());
    }

    @Test
    void overloadedAnswers503() {
        MockReply reply = failWith(Kind.OVERLOADED);

        assertEquals(503, reply.status());
        assertEquals("service_unavailable_error", json(reply.body()).at("/error/type").asText());
        assertEquals("server_is_overloaded", json(reply.body()).at("/error/code").asText());
    }

    @Test
    void timeoutHangs() {
        MockReply reply = failWith(Kind.TIMEOUT);

        assertTrue(reply.hang());
        assertFalse(reply.streamed());
    }

    @Test
    void failsTimesThenSucceedsCountingEachKeySeparately() {
        MockResponder mock = responder(new MockFailureConfig("*", Kind.SERVER_ERROR, Duration.ZERO, 2));

        int first = mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, body(CHAT)).status();
        int second = mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, body(CHAT)).status();
        int otherKey = mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "k2", false, body(CHAT)).status();
        int third = mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, body(CHAT)).status();
        int fourth = mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", true, body(CHAT)).status();

        assertEquals(500, first);
        assertEquals(500, second);
        assertEquals(500, otherKey, "k2 has its own count");
        assertEquals(200, third);
        assertEquals(200, fourth);
    }

    @Test
    void appliesOnlyToTheNamedKey() {
        MockResponder mock = responder(new MockFailureConfig("k1", Kind.OVERLOADED, Duration.ZERO, 0));

        assertEquals(503, mock.reply(Endpoint.EMBEDDINGS, "m", "k1", false, body("{\"input\":\"a\"}")).status());
        assertEquals(503, mock.reply(Endpoint.EMBEDDINGS, "m", "k1", false, body("{\"input\":\"a\"}")).status());
        assertEquals(200, mock.reply(Endpoint.EMBEDDINGS, "m", "k2", false, body("{\"input\":\"a\"}")).status());
    }

    @Test
    void wildcardRuleAppliesToEveryKey() {
        MockResponder mock = responder(new MockFailureConfig("*", Kind.INVALID_KEY, Duration.ZERO, 0));

        assertEquals(401, mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, body(CHAT)).status());
        assertEquals(401, mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "anything", false, body(CHAT)).status());
    }

    @Test
    void onlyTheFirstMatchingRuleCounts() {
        MockResponder mock = responder(new MockFailureConfig("k1", Kind.RATE_LIMIT, Duration.ZERO, 1),
                                       new MockFailureConfig("*", Kind.SERVER_ERROR, Duration.ZERO, 0));

        int first = mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, body(CHAT)).status();
        int recovered = mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, body(CHAT)).status();
        int otherKey = mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "k2", false, body(CHAT)).status();

        assertEquals(429, first);
        assertEquals(200, recovered, "k1 recovers once its rule is spent; the * rule does not take over");
        assertEquals(500, otherKey);
    }

    @Test
    void failuresComeBeforeTheBodyIsRead() {
        MockResponder mock = responder(new MockFailureConfig("k1", Kind.RATE_LIMIT, Duration.ZERO, 0));

        MockReply reply = mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", false, body("not json"));

        assertEquals(429, reply.status());
    }

    @Test
    void formatsDurationsGoStyle() {
        assertEquals("0s", FailureReplies.goDuration(Duration.ZERO));
        assertEquals("1ms", FailureReplies.goDuration(Duration.ofNanos(1)));
        assertEquals("500ms", FailureReplies.goDuration(Duration.ofMillis(500)));
        assertEquals("2s", FailureReplies.goDuration(Duration.ofSeconds(2)));
        assertEquals("7.66s", FailureReplies.goDuration(Duration.ofMillis(7660)));
        assertEquals("1.005s", FailureReplies.goDuration(Duration.ofMillis(1005)));
        assertEquals("6m0s", FailureReplies.goDuration(Duration.ofMinutes(6)));
        assertEquals("2m59.56s", FailureReplies.goDuration(Duration.ofMillis(179_560)));
        assertEquals("1h0m0s", FailureReplies.goDuration(Duration.ofHours(1)));
    }

    private static MockReply failWith(Kind kind) {
        MockResponder mock = responder(new MockFailureConfig("k1", kind, Duration.ZERO, 0));
        return mock.reply(Endpoint.CHAT_COMPLETIONS, "m", "k1", true, body(CHAT));
    }
}
