package dev.detour.provider.azure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.detour.api.Endpoint;
import dev.detour.config.ProviderType;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.provider.ProviderAdapters;
import dev.detour.provider.ResponseTranslator;
import dev.detour.provider.StreamFailure;
import dev.detour.provider.UpstreamBody;
import dev.detour.provider.UpstreamRequest;
import dev.detour.provider.UpstreamVerdict;
import dev.detour.provider.UpstreamVerdict.Kind;
import dev.detour.provider.compat.AdapterFixtures;
import dev.detour.provider.compat.SseEventFilter;
import dev.detour.routing.RouteTable;
import dev.detour.routing.Target;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class AzureAdapterTest {

    private static final Instant NOW = Instant.parse("2025-11-21T10:00:00Z");
    private static final String KEY = "0123456789abcdef0123456789abcdef";
    private static final RouteTable ROUTES = AdapterFixtures.routes("""
            providers:
              az:
                type: azure
                base-url: https://contoso.openai.azure.com/openai/
                keys: [{id: a1, value: %s}]
                headers: {x-ms-useragent: detour-test}
              entra:
                type: azure
                base-url: https://contoso.openai.azure.com/openai
                options: {auth: bearer, api-version: 2025-04-01-preview}
                keys: [{id: t1, value: eyJ0eXAiOi.test-token}]
              azv1:
                type: azure
                base-url: https://contoso.openai.azure.com/openai
                options: {api-version: v1}
                keys: [{id: v1, value: %s}]
              old:
                type: azure
                base-url: https://contoso.openai.azure.com/openai
                options: {api-version: 2024-06-01}
                keys: [{id: o1, value: %s}]
            routes:
              - model: gpt-4o-mini
                targets: [{provider: az, model: prod-4o-mini}]
              - model: embed
                targets: [{provider: az, model: "my deployment/é"}]
              - model: entra-chat
                targets: [{provider: entra, model: gpt-4o}]
              - model: v1-chat
                targets: [{provider: azv1, model: prod-4o}]
              - model: old-chat
                targets: [{provider: old, model: prod-4o}]
            """.formatted(KEY, KEY, KEY));

    @Test
    void isRegisteredForTheAzureType() {
        assertSame(AzureAdapter.INSTANCE, ProviderAdapters.forType(ProviderType.AZURE));
    }

    @Test
    void sendsChatToTheDeploymentPathWithApiVersionAndApiKeyHeader() {
        String body = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

        UpstreamRequest r = prepare(body, Endpoint.CHAT_COMPLETIONS);

        assertEquals("/openai/deployments/prod-4o-mini/chat/completions?api-version=2024-10-21", r.path());
        assertEquals(KEY, r.headers().get("api-key"));
        assertNull(r.headers().get("authorization"));
        assertEquals("detour-test", r.headers().get("x-ms-useragent"));
        assertEquals("application/json", r.headers().get("accept"));
        assertSame(UpstreamBody.PASS_THROUGH, r.body(), "Azure ignores the body's model: nothing to splice");
        assertNull(r.translator(), "non-streamed answers pass through");
    }

    @Test
    void sendsEmbeddingsToTheEncodedDeploymentPath() {
        UpstreamRequest r = prepare("{\"model\":\"embed\",\"input\":[\"a\",\"b\"]}", Endpoint.EMBEDDINGS);

        assertEquals("/openai/deployments/my%20deployment%2F%C3%A9/embeddings?api-version=2024-10-21", r.path());
        assertSame(UpstreamBody.PASS_THROUGH, r.body());
    }

    @Test
    void sendsLegacyCompletionsToTheDeployment() {
        UpstreamRequest r = prepare("{\"model\":\"gpt-4o-mini\",\"prompt\":\"hi\"}", Endpoint.COMPLETIONS);

        assertEquals("/openai/deployments/prod-4o-mini/completions?api-version=2024-10-21", r.path());
    }

    @Test
    void sendsEntraTokenAsBearerWithConfiguredApiVersion() {
        UpstreamRequest r = prepare("{\"model\":\"entra-chat\",\"messages\":[]}", Endpoint.CHAT_COMPLETIONS);

        assertEquals("Bearer eyJ0eXAiOi.test-token", r.headers().get("authorization"));
        assertNull(r.headers().get("api-key"));
        assertEquals("/openai/deployments/gpt-4o/chat/completions?api-version=2025-04-01-preview", r.path());
    }

    @Test
    void usesV1PathAndSplicesDeploymentIntoModel() {
        String body = "{\"model\":\"v1-chat\",\"messages\":[]}";

        UpstreamRequest r = prepare(body, Endpoint.CHAT_COMPLETIONS);

        assertEquals("/openai/v1/chat/completions", r.path());
        assertEquals("{\"model\":\"prod-4o\",\"messages\":[]}", AdapterFixtures.sentBody(body, r.body()));
    }

    @Test
    void filtersStreams() {
        UpstreamRequest r = prepare("{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[]}",
                                    Endpoint.CHAT_COMPLETIONS);

        assertInstanceOf(SseEventFilter.class, r.translator());
        assertEquals("text/event-stream", r.headers().get("accept"));
        assertTrue(r.stream());
    }

    @Test
    void asksForStreamUsageWhenNeededAndKeepsItsChunkFromTheClient() throws Exception {
        String body = "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[]}";
        RequestContext ctx = AdapterFixtures.context(ROUTES, Endpoint.CHAT_COMPLETIONS, body);
        ctx.needsUsage(true);
        Target target = ctx.route().targets().get(0);

        UpstreamRequest r = AzureAdapter.INSTANCE.prepare(ctx, target, target.provider().keys().get(0));
        String out = AdapterFixtures.feed(r.translator(),
                                          AdapterFixtures.fixtureBytes("azure/chat-stream-usage-crlf.sse"));

        JsonNode sent = AdapterFixtures.tree(AdapterFixtures.sentBody(body, r.body()));
        assertTrue(sent.at("/stream_options/include_usage").asBoolean(), sent.toString());
        assertFalse(out.contains("\"usage\""), out);
        assertEquals(90, ctx.usage().totalTokens(), "the usage chunk was read");
    }

    @Test
    void splicesModelAndStreamOptionsIntoAV1Body() {
        String body = "{\"model\":\"v1-chat\",\"stream\":true,\"messages\":[]}";
        RequestContext ctx = AdapterFixtures.context(ROUTES, Endpoint.CHAT_COMPLETIONS, body);
        ctx.needsUsage(true);
        Target target = ctx.route().targets().get(0);

        UpstreamRequest r = AzureAdapter.INSTANCE.prepare(ctx, target, target.provider().keys().get(0));

        assertEquals("{\"model\":\"prod-4o\",\"stream\":true,\"messages\":[],\"stream_options\":{\"include_usage\":true}}",
                     AdapterFixtures.sentBody(body, r.body()));
    }

    @Test
    void doesNotAskApiVersionsThatPredateStreamOptions() {
        String body = "{\"model\":\"old-chat\",\"stream\":true,\"messages\":[]}";
        RequestContext ctx = AdapterFixtures.context(ROUTES, Endpoint.CHAT_COMPLETIONS, body);
        ctx.needsUsage(true);
        Target target = ctx.route().targets().get(0);

        UpstreamRequest r = AzureAdapter.INSTANCE.prepare(ctx, target, target.provider().keys().get(0));

        assertSame(UpstreamBody.PASS_THROUGH, r.body());
        assertTrue(AzureAdapter.takesStreamOptions("2024-10-21"));
        assertTrue(AzureAdapter.takesStreamOptions("2025-04-01-preview"));
        assertTrue(AzureAdapter.takesStreamOptions("v1"));
        assertFalse(AzureAdapter.takesStreamOptions("2024-06-01"));
        assertFalse(AzureAdapter.takesStreamOptions("2024-05-01-preview"));
        assertFalse(AzureAdapter.takesStreamOptions("latest"));
    }

    @Test
    void keepsTheKeyOutOfToString() {
        UpstreamRequest r = prepare("{\"model\":\"gpt-4o-mini\",\"messages\":[]}", Endpoint.CHAT_COMPLETIONS);

        assertFalse(r.toString().contains(KEY), r.toString());
    }

    // --- streams (golden fixtures) ---

    @Test
    void skipsPromptFilterAndAnnotationChunks() throws Exception {
        assertStream("azure/chat-stream");
    }

    @Test
    void relaysToolCallDeltasAsTheyCome() throws Exception {
        assertStream("azure/chat-stream-tools");
    }

    @Test
    void keepsUsageChunkAndNormalisesCrLf() throws Exception {
        assertStream("azure/chat-stream-usage-crlf");
    }

    @Test
    void givesSameStreamForEverySplitPoint() throws Exception {
        byte[] upstream = AdapterFixtures.fixtureBytes("azure/chat-stream.sse");
        String expected = AdapterFixtures.fixture("azure/chat-stream.expected.sse");

        for (int cut = 0; cut <= upstream.length; cut++) {
            assertEquals(expected, AdapterFixtures.feed(streamTranslator(), upstream, cut), "cut at " + cut);
        }
    }

    @Test
    void reportsInBandErrorAsStreamFailure() {
        byte[] upstream = AdapterFixtures.fixtureBytes("azure/chat-stream-error.sse");

        StreamFailure f = assertThrows(StreamFailure.class, () -> AdapterFixtures.feed(streamTranslator(), upstream));

        assertEquals(Kind.SERVER_ERROR, f.verdict().kind());
        assertTrue(f.clientMessage().contains("The server had an error"), f.clientMessage());
    }

    @Test
    void reportsTruncatedStream() {
        byte[] upstream = AdapterFixtures.fixtureBytes("azure/chat-stream-truncated.sse");

        StreamFailure f = assertThrows(StreamFailure.class, () -> AdapterFixtures.feed(streamTranslator(), upstream));

        assertEquals("stream_truncated", f.verdict().detail());
    }

    // --- classification ---

    @Test
    void classifiesRateLimitWithRetryAfterMsFirst() {
        Headers h = Headers.of("retry-after-ms", "1500", "x-ms-retry-after-ms", "2500", "retry-after", "6");

        UpstreamVerdict v = classify(429, h, "azure/error-429-rate-limit.json");

        assertEquals(Kind.RATE_LIMITED, v.kind());
        assertEquals(1_500_000_000L, v.waitNanos());
        assertEquals("rate_limited", v.detail());
    }

    @Test
    void readsAzureOwnRetryHeaderThenRetryAfter() {
        assertEquals(2_500_000_000L,
                     classify(429, Headers.of("x-ms-retry-after-ms", "2500", "retry-after", "6"),
                              "azure/error-429-rate-limit.json").waitNanos());
        assertEquals(6_000_000_000L,
                     classify(429, Headers.of("retry-after", "6"), "azure/error-429-rate-limit.json").waitNanos());
    }

    @Test
    void readsRetryHintFromMessageWithoutHeaders() {
        UpstreamVerdict v = classify(429, Headers.empty(), "azure/error-429-rate-limit-reached.json");

        assertEquals(Kind.RATE_LIMITED, v.kind());
        assertEquals("RateLimitReached", v.detail());
        assertEquals(2_000_000_000L, v.waitNanos());
    }

    @Test
    void classifiesCallVolumeQuotaAsExhaustedUntilReplenished() {
        UpstreamVerdict v = classify(403, Headers.empty(), "azure/error-403-quota.json");

        assertEquals(Kind.QUOTA_EXHAUSTED, v.kind());
        assertEquals(750_000_000_000L, v.waitNanos());
    }

    @Test
    void classifiesUnauthorizedAsKeyInvalidAndSaysItIsTheGatewaysKey() {
        UpstreamVerdict v = classify(401, Headers.empty(), "azure/error-401.json");

        GatewayResponse.Full answer = clientError(401, "azure/error-401.json", v);

        assertEquals(Kind.KEY_INVALID, v.kind());
        assertEquals(401, answer.status());
        String message = body(answer).at("/error/message").asText();
        assertTrue(message.startsWith("The provider rejected the gateway's key"), message);
        assertTrue(message.contains("Access denied"), message);
    }

    @Test
    void classifiesContentFilterAsClientErrorAndRelaysItUnchanged() {
        UpstreamVerdict v = classify(400, Headers.empty(), "azure/error-400-content-filter.json");

        GatewayResponse.Full answer = clientError(400, "azure/error-400-content-filter.json", v);

        assertEquals(Kind.CLIENT_ERROR, v.kind());
        assertEquals("content_filter", v.detail());
        assertEquals(400, answer.status());
        assertEquals("content_filter", body(answer).at("/error/code").asText());
        assertEquals("prompt", body(answer).at("/error/param").asText());
    }

    @Test
    void classifiesContextLengthExceeded() {
        assertEquals(Kind.CONTEXT_TOO_LONG,
                     classify(400, Headers.empty(), "azure/error-400-context-length.json").kind());
    }

    @Test
    void classifiesMissingDeploymentAsModelNotFound() {
        UpstreamVerdict v = classify(404, Headers.empty(), "azure/error-404-deployment.json");

        assertEquals(Kind.MODEL_NOT_FOUND, v.kind());
        assertEquals("DeploymentNotFound", v.detail());
    }

    @Test
    void classifiesServiceUnavailableAsOverloadedAndServerErrorAsServerError() {
        assertEquals(Kind.OVERLOADED, classify(503, Headers.of("retry-after", "4"), "azure/error-503.json").kind());
        assertEquals(Kind.SERVER_ERROR, classify(500, Headers.empty(), "azure/error-503.json").kind());
    }

    @Test
    void describesEmptyErrorBody() {
        UpstreamVerdict v = AzureAdapter.INSTANCE.classify(502, Headers.empty(), new byte[0], NOW);

        GatewayResponse.Full answer = AzureAdapter.INSTANCE.clientError(502, Headers.empty(), new byte[0], v);

        assertEquals(502, answer.status());
        assertTrue(body(answer).at("/error/message").asText().contains("HTTP 502"));
    }

    @Test
    void coolsKeyWhenABucketReportsZeroWithResetInSeconds() {
        Headers h = Headers.of("x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "7",
                               "x-ratelimit-remaining-tokens", "0", "x-ratelimit-reset-tokens", "12");

        UpstreamVerdict v = AzureAdapter.INSTANCE.classify(200, h, new byte[0], NOW);

        assertEquals(Kind.SUCCESS, v.kind());
        assertEquals(12_000_000_000L, v.waitNanos());
    }

    @Test
    void ignoresPlaceholderAndMissingResets() {
        Headers placeholders = Headers.of("x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "0",
                                          "x-ratelimit-remaining-tokens", "-1", "x-ratelimit-reset-tokens", "-1");
        Headers noReset = Headers.of("x-ratelimit-remaining-tokens", "0");

        assertSame(UpstreamVerdict.OK, AzureAdapter.INSTANCE.classify(200, placeholders, new byte[0], NOW));
        assertSame(UpstreamVerdict.OK, AzureAdapter.INSTANCE.classify(200, noReset, new byte[0], NOW));
    }

    private static void assertStream(String name) throws Exception {
        String out = AdapterFixtures.feed(streamTranslator(), AdapterFixtures.fixtureBytes(name + ".sse"));

        assertEquals(AdapterFixtures.events(AdapterFixtures.fixture(name + ".expected.sse")),
                     AdapterFixtures.events(out));
    }

    private static ResponseTranslator streamTranslator() {
        return prepare("{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[]}", Endpoint.CHAT_COMPLETIONS)
                .translator();
    }

    private static UpstreamRequest prepare(String body, Endpoint endpoint) {
        RequestContext ctx = AdapterFixtures.context(ROUTES, endpoint, body);
        Target target = ctx.route().targets().get(0);
        return AzureAdapter.INSTANCE.prepare(ctx, target, target.provider().keys().get(0));
    }

    private static UpstreamVerdict classify(int status, Headers headers, String fixture) {
        return AzureAdapter.INSTANCE.classify(status, headers, AdapterFixtures.fixtureBytes(fixture), NOW);
    }

    private static GatewayResponse.Full clientError(int status, String fixture, UpstreamVerdict v) {
        return AzureAdapter.INSTANCE.clientError(status, Headers.of("content-type", "application/json"),
                                                 AdapterFixtures.fixtureBytes(fixture), v);
    }

    private static JsonNode body(GatewayResponse.Full answer) {
        return AdapterFixtures.tree(new String(answer.body(), StandardCharsets.UTF_8));
    }
}
