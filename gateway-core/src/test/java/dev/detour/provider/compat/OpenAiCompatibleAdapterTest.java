package dev.detour.provider.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.detour.api.Endpoint;
import dev.detour.api.InvalidRequestException;
import dev.detour.config.ProviderType;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.provider.OpenAiAdapter;
import dev.detour.provider.ProviderAdapter;
import dev.detour.provider.ProviderAdapters;
import dev.detour.provider.StreamFailure;
import dev.detour.provider.UpstreamBody;
import dev.detour.provider.UpstreamRequest;
import dev.detour.provider.UpstreamVerdict;
import dev.detour.provider.UpstreamVerdict.Kind;
import dev.detour.routing.RouteTable;
import dev.detour.routing.Target;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class OpenAiCompatibleAdapterTest {

    private static final Instant NOW = Instant.parse("2025-11-21T10:00:00Z");
    private static final String ROUTER_STREAM = "{\"model\":\"router\",\"stream\":true,\"messages\":[]}";
    private static final RouteTable ROUTES = AdapterFixtures.routes("""
            providers:
              mistral:
                type: mistral
                keys: [{id: m1, value: mistral-test-key-0001}]
              groq:
                type: groq
                keys: [{id: g1, value: gsk_test_0001}]
              openrouter:
                type: openrouter
                keys: [{id: o1, value: sk-or-v1-test-0001}]
              deepseek:
                type: deepseek
                keys: [{id: d1, value: sk-test-deepseek-0001}]
              vllm:
                type: vllm
            routes:
              - model: chat
                targets: [{provider: mistral, model: mistral-small-latest}]
              - model: fast
                targets: [{provider: groq, model: llama-3.3-70b-versatile}]
              - model: router
                targets: [{provider: openrouter, model: openai/gpt-4o-mini}]
              - model: deepseek-chat
                targets: [{provider: deepseek}]
              - model: local
                targets: [{provider: vllm, model: qwen3-8b}]
            """);
    private static final String USAGE_CHUNK = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
            + "\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":4,\"total_tokens\":24,"
            + "\"prompt_tokens_details\":{\"cached_tokens\":16}}}\n\n";
    private static final String CONTENT_CHUNK = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\","
            + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\n";

    // --- registration ---

    @Test
    void keepsPlainOpenAiOnTheReferenceAdapter() {
        assertSame(OpenAiAdapter.INSTANCE, ProviderAdapters.forType(ProviderType.OPENAI));
        assertSame(OpenAiAdapter.INSTANCE, OpenAiCompatibleAdapter.of(ProviderType.OPENAI));
    }

    @Test
    void givesEveryPresetItsOwnAdapter() {
        for (ProviderType t : ProviderType.values()) {
            if (t.dialect() != ProviderType.Dialect.OPENAI || t == ProviderType.OPENAI) {
                continue;
            }
            ProviderAdapter adapter = ProviderAdapters.forType(t);

            OpenAiCompatibleAdapter compat = assertInstanceOf(OpenAiCompatibleAdapter.class, adapter, t.name());
            assertEquals(t, compat.type());
        }
    }

    // --- requests ---

    @Test
    void leavesBodyWithoutQuirkyFieldsToTheOpenAiPath() throws Exception {
        String body = "{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"seed\"}],"
                      + "\"temperature\":0.1}";

        UpstreamRequest r = prepare(body, Endpoint.CHAT_COMPLETIONS);

        UpstreamBody.Splice splice = assertInstanceOf(UpstreamBody.Splice.class, r.body());
        assertEquals("{\"model\":\"mistral-small-latest\",\"messages\":[{\"role\":\"user\",\"content\":\"seed\"}],"
                     + "\"temperature\":0.1}", AdapterFixtures.sentBody(body, splice));
        assertNull(r.translator());
        assertEquals("/v1/chat/completions", r.path());
        assertEquals("Bearer mistral-test-key-0001", r.headers().get("authorization"));
    }

    @Test
    void rewritesMistralRequestPerGoldenFixture() throws Exception {
        String body = AdapterFixtures.fixture("compat/mistral-request.json");

        UpstreamRequest r = prepare(body, Endpoint.CHAT_COMPLETIONS);

        assertInstanceOf(UpstreamBody.Replace.class, r.body());
        String expected = AdapterFixtures.fixture("compat/mistral-request.expected.json")
                .replace("@ID1@", ToolCallIds.toMistral("call_9x2AbCdEfGhIjKlMnOpQr"));
        assertEquals(AdapterFixtures.tree(expected), AdapterFixtures.tree(AdapterFixtures.sentBody(body, r.body())));
    }

    @Test
    void keepsNumbersAsWrittenWhenRewriting() throws Exception {
        String body = "{\"model\":\"chat\",\"seed\":12345678901234567890,\"temperature\":0.30000000000000004,"
                      + "\"top_p\":1e0,\"messages\":[]}";

        String sent = AdapterFixtures.sentBody(body, prepare(body, Endpoint.CHAT_COMPLETIONS).body());

        assertTrue(sent.contains("\"random_seed\":12345678901234567890"), sent);
        assertTrue(sent.contains("\"temperature\":0.30000000000000004"), sent);
    }

    @Test
    void mapsToolCallIdsOntoMistralsFormatStably() {
        String id = ToolCallIds.toMistral("call_9x2AbCdEfGhIjKlMnOpQr");

        assertTrue(ToolCallIds.isMistralId(id), id);
        assertEquals(id, ToolCallIds.toMistral("call_9x2AbCdEfGhIjKlMnOpQr"));
        assertEquals("a1B2c3D4e", ToolCallIds.toMistral("a1B2c3D4e"));
        assertFalse(id.equals(ToolCallIds.toMistral("call_9x2AbCdEfGhIjKlMnOpQs")));
    }

    @Test
    void dropsGroqsRefusedFieldsPerGoldenFixture() throws Exception {
        String body = AdapterFixtures.fixture("compat/groq-request.json").replace("\"chat\"", "\"fast\"");

        UpstreamRequest r = prepare(body, Endpoint.CHAT_COMPLETIONS);

        assertEquals(AdapterFixtures.tree(AdapterFixtures.fixture("compat/groq-request.expected.json")),
                     AdapterFixtures.tree(AdapterFixtures.sentBody(body, r.body())));
    }

    @Test
    void leavesGroqBodyUntouchedWhenNOneIsTheOnlyTrigger() throws Exception {
        String body = "{\"model\":\"fast\",\"n\":1,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

        UpstreamRequest r = prepare(body, Endpoint.CHAT_COMPLETIONS);

        assertInstanceOf(UpstreamBody.Splice.class, r.body());
    }

    @Test
    void refusesGroqRequestForSeveralChoices() {
        String body = "{\"model\":\"fast\",\"n\":3,\"messages\":[]}";

        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                                                 () -> prepare(body, Endpoint.CHAT_COMPLETIONS));

        assertEquals("n", e.param());
        assertTrue(e.getMessage().startsWith("n: 3"), e.getMessage());
    }

    @Test
    void leavesEmbeddingsBodiesAlone() throws Exception {
        String body = "{\"model\":\"chat\",\"input\":\"hi\",\"user\":\"u1\"}";

        UpstreamRequest r = prepare(body, Endpoint.EMBEDDINGS);

        assertInstanceOf(UpstreamBody.Splice.class, r.body());
        assertEquals("/v1/embeddings", r.path());
    }

    @Test
    void passesDeepSeekThroughUntouched() throws Exception {
        String body = "{\"model\":\"deepseek-chat\",\"seed\":1,\"messages\":[],\"stream\":true}";

        UpstreamRequest r = prepare(body, Endpoint.CHAT_COMPLETIONS);

        assertSame(UpstreamBody.PASS_THROUGH, r.body());
        assertNull(r.translator(), "DeepSeek streams pass through");
    }

    @Test
    void asksDeepSeekForStreamUsageWhenNeededAndKeepsItsChunkFromTheClient() throws Exception {
        String body = "{\"model\":\"deepseek-chat\",\"messages\":[],\"stream\":true}";
        RequestContext ctx = AdapterFixtures.context(ROUTES, Endpoint.CHAT_COMPLETIONS, body);
        ctx.needsUsage(true);
        Target target = ctx.route().targets().get(0);

        UpstreamRequest r = target.adapter().prepare(ctx, target, target.provider().keys().get(0));
        String out = AdapterFixtures.feed(r.translator(), (CONTENT_CHUNK + USAGE_CHUNK + "data: [DONE]\n\n")
                .getBytes(StandardCharsets.UTF_8), 30);

        JsonNode sent = AdapterFixtures.tree(AdapterFixtures.sentBody(body, r.body()));
        assertTrue(sent.at("/stream_options/include_usage").asBoolean(), sent.toString());
        assertEquals(CONTENT_CHUNK + "data: [DONE]\n\n", out, "the client did not ask for the usage chunk");
        assertEquals(24, ctx.usage().totalTokens());
        assertEquals(16, ctx.usage().cachedTokens());
    }

    @Test
    void asksVllmWithTheModelMappedAndTheClientsOwnStreamOptionsKept() throws Exception {
        String body = "{\"model\":\"local\",\"messages\":[],\"stream\":true,\"stream_options\":{\"include_usage\":false,"
                      + "\"continuous_usage_stats\":false}}";
        RequestContext ctx = AdapterFixtures.context(ROUTES, Endpoint.CHAT_COMPLETIONS, body);
        ctx.needsUsage(true);
        Target target = ctx.route().targets().get(0);

        UpstreamRequest r = target.adapter().prepare(ctx, target, target.keys().next());

        JsonNode sent = AdapterFixtures.tree(AdapterFixtures.sentBody(body, r.body()));
        assertEquals("qwen3-8b", sent.get("model").asText());
        assertTrue(sent.at("/stream_options/include_usage").asBoolean(), sent.toString());
        assertFalse(sent.at("/stream_options/continuous_usage_stats").asBoolean(true), "the client's other option");
    }

    @Test
    void leavesTheUsageChunkToADeepSeekClientThatAskedForIt() throws Exception {
        String body = "{\"model\":\"deepseek-chat\",\"messages\":[],\"stream\":true,"
                      + "\"stream_options\":{\"include_usage\":true}}";
        RequestContext ctx = AdapterFixtures.context(ROUTES, Endpoint.CHAT_COMPLETIONS, body);
        ctx.needsUsage(true);
        Target target = ctx.route().targets().get(0);

        UpstreamRequest r = target.adapter().prepare(ctx, target, target.provider().keys().get(0));

        assertSame(UpstreamBody.PASS_THROUGH, r.body());
        assertNull(r.translator(), "the chunk passes to the client, and the server reads it as it passes");
    }

    @Test
    void neverAsksPresetsThatSendUsageAnywayOrMayRefuseTheField() throws Exception {
        for (String model : new String[] {"chat", "fast", "router"}) {
            String body = "{\"model\":\"" + model + "\",\"messages\":[],\"stream\":true}";
            RequestContext ctx = AdapterFixtures.context(ROUTES, Endpoint.CHAT_COMPLETIONS, body);
            ctx.needsUsage(true);
            Target target = ctx.route().targets().get(0);

            UpstreamRequest r = target.adapter().prepare(ctx, target, target.provider().keys().get(0));

            assertFalse(AdapterFixtures.sentBody(body, r.body()).contains("stream_options"), model);
        }
        assertEquals(java.util.Set.of(ProviderType.DEEPSEEK, ProviderType.VLLM, ProviderType.OLLAMA),
                     OpenAiCompatibleAdapter.ASKS_FOR_STREAM_USAGE);
    }

    @Test
    void filtersOpenRouterStreamsOnly() throws Exception {
        UpstreamRequest streamed = prepare("{\"model\":\"router\",\"stream\":true,\"messages\":[]}",
                                           Endpoint.CHAT_COMPLETIONS);
        UpstreamRequest whole = prepare("{\"model\":\"router\",\"messages\":[]}", Endpoint.CHAT_COMPLETIONS);

        assertInstanceOf(SseEventFilter.class, streamed.translator());
        assertNull(whole.translator());
    }

    @Test
    void relaysOpenRouterStreamWithoutLeadingComments() throws Exception {
        UpstreamRequest r = prepare(ROUTER_STREAM, Endpoint.CHAT_COMPLETIONS);

        String out = AdapterFixtures.feed(r.translator(), AdapterFixtures.fixtureBytes("compat/openrouter-stream.sse"));

        assertEquals(AdapterFixtures.fixture("compat/openrouter-stream.expected.sse"), out);
    }

    @Test
    void failsOverOnOpenRouterErrorBeforeContent() throws Exception {
        UpstreamRequest r = prepare(ROUTER_STREAM, Endpoint.CHAT_COMPLETIONS);
        byte[] stream = AdapterFixtures.fixtureBytes("compat/openrouter-stream-error.sse");

        StreamFailure f = assertThrows(StreamFailure.class, () -> AdapterFixtures.feed(r.translator(), stream));

        assertEquals(Kind.OVERLOADED, f.verdict().kind(), "502 in band: the chosen model is down");
        assertTrue(f.clientMessage().contains("Provider disconnected"));
    }

    @Test
    void keepsKeysOutOfPreparedRequestToString() throws Exception {
        UpstreamRequest r = prepare(AdapterFixtures.fixture("compat/mistral-request.json"), Endpoint.CHAT_COMPLETIONS);

        assertFalse(r.toString().contains("mistral-test-key-0001"), r.toString());
    }

    // --- classification ---

    @Test
    void classifiesGroqMinuteLimitAsRateLimitedWithGoDurationHint() {
        Headers h = Headers.of("x-ratelimit-remaining-requests", "14000", "x-ratelimit-remaining-tokens", "0",
                               "x-ratelimit-reset-tokens", "7.66s");

        UpstreamVerdict v = classify(ProviderType.GROQ, 429, h, "compat/groq-429-tpm.json");

        assertEquals(Kind.RATE_LIMITED, v.kind());
        assertEquals(7_660_000_000L, v.waitNanos());
    }

    @Test
    void classifiesGroqDailyLimitAsQuotaWithMessageHint() {
        UpstreamVerdict v = classify(ProviderType.GROQ, 429, Headers.empty(), "compat/groq-429-tpd.json");

        assertEquals(Kind.QUOTA_EXHAUSTED, v.kind());
        assertEquals("daily_limit", v.detail());
        assertEquals(179_560_000_000L, v.waitNanos());
    }

    @Test
    void readsGroqRequestsHeaderAsPerDay() {
        Headers h = Headers.of("x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "2h10m0s");

        UpstreamVerdict v = classify(ProviderType.GROQ, 429, h, "compat/groq-429-tpm.json");

        assertEquals(Kind.QUOTA_EXHAUSTED, v.kind());
        assertEquals(7_800_000_000_000L, v.waitNanos());
    }

    @Test
    void prefersRetryAfterOverGroqResets() {
        Headers h = Headers.of("retry-after", "2", "x-ratelimit-remaining-tokens", "0",
                               "x-ratelimit-reset-tokens", "7.66s");

        assertEquals(2_000_000_000L, classify(ProviderType.GROQ, 429, h, "compat/groq-429-tpm.json").waitNanos());
    }

    @Test
    void classifiesGroqFlexCapacityAsOverloadedAndAnswers503() {
        UpstreamVerdict v = classify(ProviderType.GROQ, 498, Headers.empty(), "compat/groq-498.json");

        GatewayResponse.Full answer = clientError(ProviderType.GROQ, 498, "compat/groq-498.json", v);

        assertEquals(Kind.OVERLOADED, v.kind());
        assertEquals(503, answer.status());
    }

    @Test
    void classifiesMistralRateLimitedAndRewritesItsFlatError() {
        Headers headers = Headers.of("content-type", "application/json", "retry-after", "1");
        UpstreamVerdict v = classify(ProviderType.MISTRAL, 429, headers, "compat/mistral-429.json");

        GatewayResponse.Full answer = OpenAiCompatibleAdapter.of(ProviderType.MISTRAL).clientError(
                429, headers, AdapterFixtures.fixtureBytes("compat/mistral-429.json"), v);

        assertEquals(Kind.RATE_LIMITED, v.kind());
        assertEquals(1_000_000_000L, v.waitNanos());
        assertEquals(429, answer.status());
        assertEquals(AdapterFixtures.tree("{\"error\":{\"message\":\"Rate limit exceeded\",\"type\":\"rate_limited\","
                                          + "\"param\":null,\"code\":\"1300\"}}"), body(answer));
        assertEquals("1", answer.headers().get("retry-after"));
        assertEquals("application/json", answer.headers().get("content-type"));
    }

    @Test
    void classifiesMistralCapacityAsOverloaded() {
        assertEquals(Kind.OVERLOADED,
                     classify(ProviderType.MISTRAL, 429, Headers.empty(), "compat/mistral-429-capacity.json").kind());
    }

    @Test
    void keepsMistralValidationDetailsForTheClient() {
        UpstreamVerdict v = classify(ProviderType.MISTRAL, 422, Headers.empty(), "compat/mistral-422.json");

        GatewayResponse.Full answer = clientError(ProviderType.MISTRAL, 422, "compat/mistral-422.json", v);

        assertEquals(Kind.CLIENT_ERROR, v.kind());
        assertEquals(422, answer.status());
        assertTrue(body(answer).at("/error/message").asText().contains("Extra inputs are not permitted"));
    }

    @Test
    void classifiesMistralUnauthorizedAsKeyInvalid() {
        UpstreamVerdict v = classify(ProviderType.MISTRAL, 401, Headers.empty(), "compat/mistral-401.json");

        GatewayResponse.Full answer = clientError(ProviderType.MISTRAL, 401, "compat/mistral-401.json", v);

        assertEquals(Kind.KEY_INVALID, v.kind());
        assertEquals(401, answer.status());
        assertTrue(body(answer).at("/error/message").asText().startsWith("The provider rejected the gateway's key"));
    }

    @Test
    void coolsMistralKeyWhenMinuteBucketIsEmpty() {
        Headers h = Headers.of("x-ratelimit-remaining-req-minute", "0", "x-ratelimit-remaining-tokens-minute", "900");

        UpstreamVerdict v = OpenAiCompatibleAdapter.of(ProviderType.MISTRAL).classify(200, h, new byte[0], NOW);

        assertEquals(Kind.SUCCESS, v.kind());
        assertEquals(OpenAiCompatibleAdapter.MINUTE_NANOS, v.waitNanos());
    }

    @Test
    void coolsGroqKeyWhenDailyRequestsRunOut() {
        Headers h = Headers.of("x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "2m59.56s");

        UpstreamVerdict v = OpenAiCompatibleAdapter.of(ProviderType.GROQ).classify(200, h, new byte[0], NOW);

        assertEquals(Kind.SUCCESS, v.kind());
        assertEquals(179_560_000_000L, v.waitNanos());
    }

    @Test
    void classifiesDeepSeekInsufficientBalanceAsQuota() {
        UpstreamVerdict v = classify(ProviderType.DEEPSEEK, 402, Headers.empty(), "compat/deepseek-402.json");

        assertEquals(Kind.QUOTA_EXHAUSTED, v.kind());
        assertEquals("insufficient_balance", v.detail());
    }

    @Test
    void classifiesOpenRouterCreditsAndRewritesNumericCode() {
        UpstreamVerdict v = classify(ProviderType.OPENROUTER, 402, Headers.empty(), "compat/openrouter-402.json");

        GatewayResponse.Full answer = clientError(ProviderType.OPENROUTER, 402, "compat/openrouter-402.json", v);

        assertEquals(Kind.QUOTA_EXHAUSTED, v.kind());
        assertEquals("402", body(answer).at("/error/code").asText());
        assertTrue(body(answer).at("/error/code").isTextual());
        assertFalse(body(answer).at("/error").has("metadata"));
    }

    @Test
    void classifiesOpenRouterModerationAsClientError() {
        assertEquals(Kind.CLIENT_ERROR,
                     classify(ProviderType.OPENROUTER, 403, Headers.empty(), "compat/openrouter-403-moderation.json")
                             .kind());
    }

    @Test
    void classifiesOpenRouterDailyFreeLimitAsQuota() {
        assertEquals(Kind.QUOTA_EXHAUSTED,
                     classify(ProviderType.OPENROUTER, 429, Headers.empty(), "compat/openrouter-429-daily.json")
                             .kind());
    }

    @Test
    void classifiesOpenRouterModelDownAsOverloadedWithoutRelayingRawUpstreamBody() {
        UpstreamVerdict v = classify(ProviderType.OPENROUTER, 502, Headers.of("retry-after", "3"),
                                     "compat/openrouter-502.json");

        GatewayResponse.Full answer = clientError(ProviderType.OPENROUTER, 502, "compat/openrouter-502.json", v);

        assertEquals(Kind.OVERLOADED, v.kind());
        assertEquals(3_000_000_000L, v.waitNanos());
        assertFalse(new String(answer.body(), StandardCharsets.UTF_8).contains("upstream connect error"));
    }

    @Test
    void classifiesTogetherCreditLimitAsQuota() {
        assertEquals(Kind.QUOTA_EXHAUSTED,
                     classify(ProviderType.TOGETHER, 429, Headers.empty(), "compat/together-429-credits.json").kind());
    }

    @Test
    void classifiesXaiSpentCreditsAsQuota() {
        assertEquals(Kind.QUOTA_EXHAUSTED,
                     classify(ProviderType.XAI, 429, Headers.empty(), "compat/xai-429-credits.json").kind());
    }

    @Test
    void classifiesXaiBadKeyAsKeyInvalidAndRedactsIt() {
        UpstreamVerdict v = classify(ProviderType.XAI, 400, Headers.empty(), "compat/xai-400-key.json");

        GatewayResponse.Full answer = clientError(ProviderType.XAI, 400, "compat/xai-400-key.json", v);

        assertEquals(Kind.KEY_INVALID, v.kind());
        String message = body(answer).at("/error/message").asText();
        assertTrue(message.startsWith("The provider rejected the gateway's key"), message);
        assertFalse(message.contains("xa***"), message);
        assertFalse(message.contains("Q3."), message);
    }

    @Test
    void redactsMaskedOpenAiStyleKeys() {
        UpstreamVerdict v = classify(ProviderType.TOGETHER, 401, Headers.empty(), "compat/openai-401-key.json");

        String message = body(clientError(ProviderType.TOGETHER, 401, "compat/openai-401-key.json", v))
                .at("/error/message").asText();

        assertEquals(Kind.KEY_INVALID, v.kind());
        assertFalse(message.contains("abcd"), message);
        assertFalse(message.contains("sk-proj"), message);
    }

    @Test
    void classifiesVllmContextOverflow() {
        assertEquals(Kind.CONTEXT_TOO_LONG,
                     classify(ProviderType.VLLM, 400, Headers.empty(), "compat/vllm-400-context.json").kind());
    }

    @Test
    void classifiesOllamaMissingModelAndPassesStandardBodyThrough() {
        UpstreamVerdict v = classify(ProviderType.OLLAMA, 404, Headers.empty(), "compat/ollama-404.json");

        GatewayResponse.Full answer = clientError(ProviderType.OLLAMA, 404, "compat/ollama-404.json", v);

        assertEquals(Kind.MODEL_NOT_FOUND, v.kind());
        assertEquals(AdapterFixtures.fixture("compat/ollama-404.json"),
                     new String(answer.body(), StandardCharsets.UTF_8));
    }

    @Test
    void describesHtmlErrorWithoutRelayingIt() {
        byte[] html = "<html><body>502 Bad Gateway</body></html>".getBytes(StandardCharsets.UTF_8);
        ProviderAdapter adapter = OpenAiCompatibleAdapter.of(ProviderType.FIREWORKS);
        UpstreamVerdict v = adapter.classify(502, Headers.empty(), html, NOW);

        GatewayResponse.Full answer = adapter.clientError(502, Headers.of("content-type", "text/html"), html, v);

        assertEquals(Kind.SERVER_ERROR, v.kind());
        assertEquals("application/json", answer.headers().get("content-type"));
        assertNotNull(body(answer).at("/error/message").asText());
        assertFalse(new String(answer.body(), StandardCharsets.UTF_8).contains("<html>"));
    }

    private static UpstreamRequest prepare(String body, Endpoint endpoint) throws InvalidRequestException {
        RequestContext ctx = AdapterFixtures.context(ROUTES, endpoint, body);
        Target target = ctx.route().targets().get(0);
        return target.adapter().prepare(ctx, target, target.provider().keys().get(0));
    }

    private static UpstreamVerdict classify(ProviderType type, int status, Headers headers, String fixture) {
        return OpenAiCompatibleAdapter.of(type).classify(status, headers, AdapterFixtures.fixtureBytes(fixture), NOW);
    }

    private static GatewayResponse.Full clientError(ProviderType type, int status, String fixture, UpstreamVerdict v) {
        return OpenAiCompatibleAdapter.of(type).clientError(status, Headers.of("content-type", "application/json"),
                                                            AdapterFixtures.fixtureBytes(fixture), v);
    }

    private static JsonNode body(GatewayResponse.Full answer) {
        return AdapterFixtures.tree(new String(answer.body(), StandardCharsets.UTF_8));
    }
}
