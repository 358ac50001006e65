package dev.detour.provider.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.detour.api.Endpoint;
import dev.detour.api.InvalidRequestException;
import dev.detour.config.ProviderType;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.provider.ProviderAdapters;
import dev.detour.provider.UpstreamRequest;
import dev.detour.provider.UpstreamVerdict;
import dev.detour.routing.Target;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class AnthropicAdapterTest {

    private static final Instant NOW = Instant.parse("2026-11-21T12:00:00Z");
    private static final AnthropicAdapter ADAPTER = AnthropicAdapter.of(Clock.fixed(NOW, ZoneOffset.UTC));
    private static final String CHAT = "{\"model\":\"claude\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    static Stream<JsonNode> errorCases() {
        List<JsonNode> cases = new ArrayList<>();
        Fixtures.json("errors.json").forEach(cases::add);
        return cases.stream();
    }

    @Test
    void isRegisteredForTheAnthropicDialect() {
        assertSame(AnthropicAdapter.INSTANCE, ProviderAdapters.forType(ProviderType.ANTHROPIC));
    }

    @Test
    void postsToMessagesWithKeyVersionAndProviderHeaders() throws Exception {
        RequestContext ctx = Contexts.chat(CHAT);
        Target target = Contexts.target(ctx);

        UpstreamRequest r = ADAPTER.prepare(ctx, target, target.keys().next());

        assertEquals("/v1/messages", r.path());
        assertEquals("sk-ant-test-0000000001", r.headers().get("x-api-key"));
        assertEquals("2023-06-01", r.headers().get("anthropic-version"));
        assertEquals("application/json", r.headers().get("content-type"));
        assertEquals("application/json", r.headers().get("accept"));
        assertEquals("prompt-caching-2024-07-31", r.headers().get("anthropic-beta"));
        assertNull(r.headers().get("authorization"), "Anthropic takes the key in x-api-key only");
        assertNotNull(r.translator(), "answers are translated");
        assertFalse(r.stream());
        assertSame(ctx.route().timeouts(), r.timeouts());
    }

    @Test
    void asksForEventStreamWhenStreaming() throws Exception {
        RequestContext ctx = Contexts.chat("{\"model\":\"claude\",\"messages\":[],\"stream\":true}");
        Target target = Contexts.target(ctx);

        UpstreamRequest r = ADAPTER.prepare(ctx, target, target.keys().next());

        assertEquals("text/event-stream", r.headers().get("accept"));
        assertTrue(r.stream());
    }

    @Test
    void honoursBasePathVersionOptionAndHeaderOverrides() throws Exception {
        RequestContext ctx = Contexts.chat("{\"model\":\"proxied\",\"messages\":[]}");
        Target target = Contexts.target(ctx);

        UpstreamRequest r = ADAPTER.prepare(ctx, target, target.keys().next());

        assertEquals("/proxy/v1/messages", r.path());
        assertEquals("2024-10-22", r.headers().get("anthropic-version"));
        assertEquals(List.of("sk-ant-from-headers"), values(r.headers(), "x-api-key"),
                     "a configured header replaces the built-in one instead of doubling it");
    }

    @Test
    void keepsKeyOutOfToString() throws Exception {
        RequestContext ctx = Contexts.chat(CHAT);
        Target target = Contexts.target(ctx);

        String printed = ADAPTER.prepare(ctx, target, target.keys().next()).toString();

        assertEquals(-1, printed.indexOf("sk-ant-test-0000000001"), printed);
    }

    @Test
    void refusesEmbeddingsNamingTheProvider() {
        RequestContext ctx = Contexts.of(Endpoint.EMBEDDINGS, "{\"model\":\"claude\",\"input\":\"hi\"}");
        Target target = Contexts.target(ctx);

        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                                                 () -> ADAPTER.prepare(ctx, target, target.keys().next()));

        assertTrue(e.getMessage().startsWith("provider 'claude' (anthropic) has no embeddings endpoint"),
                   e.getMessage());
    }

    @Test
    void translatesLegacyCompletionAnswersToTextCompletion() throws Exception {
        RequestContext ctx = Contexts.of(Endpoint.COMPLETIONS, "{\"model\":\"claude\",\"prompt\":\"Say hi\"}");
        Target target = Contexts.target(ctx);
        UpstreamRequest r = ADAPTER.prepare(ctx, target, target.keys().next());

        byte[] out = r.translator().translateBody(Fixtures.bytes("responses/completion-text.anthropic.json"));

        ObjectNode expected = (ObjectNode) Fixtures.json("responses/completion-text.openai.json");
        expected.put("created", Math.toIntExact(NOW.getEpochSecond())); // parsed JSON holds an int
        expected.put("model", "claude"); // the name the client asked for
        assertEquals(expected, Fixtures.tree(out));
    }

    @Test
    void reportsAStreamsUsageIntoTheContextWhenItIsNeeded() throws Exception {
        RequestContext ctx = Contexts.chat("{\"model\":\"claude\",\"messages\":[],\"stream\":true}");
        ctx.needsUsage(true);
        Target target = Contexts.target(ctx);
        UpstreamRequest r = ADAPTER.prepare(ctx, target, target.keys().next());
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        r.translator().translateStream(ByteBuffer.wrap(Fixtures.bytes("streams/tool-use-with-usage.anthropic.sse")),
                                       out::write);
        r.translator().endStream(out::write);

        assertFalse(out.toString(StandardCharsets.UTF_8).contains("\"usage\""), "the client did not ask");
        assertEquals(569, ctx.usage().totalTokens());
        assertEquals(100, ctx.usage().cachedTokens());
    }

    @Test
    void leavesTheContextAloneWhenNobodyNeedsUsage() throws Exception {
        RequestContext ctx = Contexts.chat(CHAT);
        Target target = Contexts.target(ctx);
        UpstreamRequest r = ADAPTER.prepare(ctx, target, target.keys().next());

        r.translator().translateBody(Fixtures.bytes("responses/text.anthropic.json"));

        assertFalse(ctx.usage().found());
    }

    @Test
    void stampsCreatedFromTheInjectedClock() throws Exception {
        RequestContext ctx = Contexts.chat(CHAT);
        Target target = Contexts.target(ctx);
        UpstreamRequest r = ADAPTER.prepare(ctx, target, target.keys().next());

        byte[] out = r.translator().translateBody(Fixtures.bytes("responses/text.anthropic.json"));

        assertEquals(NOW.getEpochSecond(), Fixtures.tree(out).get("created").asLong());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errorCases")
    void classifiesAndTranslatesErrorAsInGoldenTable(JsonNode c) {
        Headers headers = headers(c.get("headers"));
        byte[] body = c.has("rawBody") ? c.get("rawBody").asText().getBytes(StandardCharsets.UTF_8)
                                       : c.get("body").toString().getBytes(StandardCharsets.UTF_8);

        UpstreamVerdict verdict = ADAPTER.classify(c.get("status").asInt(), headers, body, NOW);
        GatewayResponse.Full client = ADAPTER.clientError(c.get("status").asInt(), headers, body, verdict);

        assertEquals(UpstreamVerdict.Kind.valueOf(c.get("verdict").asText()), verdict.kind());
        long wait = c.get("waitMillis").isNull() ? UpstreamVerdict.NO_HINT
                                                 : Duration.ofMillis(c.get("waitMillis").asLong()).toNanos();
        assertEquals(wait, verdict.waitNanos());
        assertEquals(c.get("clientStatus").asInt(), client.status());
        assertEquals(c.get("client"), Fixtures.tree(client.body()));
        assertEquals("application/json", client.headers().get("content-type"));
        for (Map.Entry<String, JsonNode> h : c.get("clientHeaders").properties()) {
            assertEquals(h.getValue().asText(), client.headers().get(h.getKey()), h.getKey());
        }
        assertEquals(1 + c.get("clientHeaders").size(), client.headers().size(), client.headers().toString());
    }

    @Test
    void coolsProactivelyWhenSuccessReportsAnExhaustedBucket() {
        Headers headers = Headers.of("anthropic-ratelimit-requests-remaining", "12",
                                     "anthropic-ratelimit-requests-reset", "2026-11-21T12:00:02Z",
                                     "anthropic-ratelimit-output-tokens-remaining", "0",
                                     "anthropic-ratelimit-output-tokens-reset", "2026-11-21T12:00:04+00:00",
                                     "anthropic-ratelimit-tokens-remaining", "0",
                                     "anthropic-ratelimit-tokens-reset", "2026-11-21T13:00:06+01:00");

        UpstreamVerdict verdict = ADAPTER.classify(200, headers, new byte[0], NOW);

        assertEquals(UpstreamVerdict.Kind.SUCCESS, verdict.kind());
        assertEquals(Duration.ofSeconds(4).toNanos(), verdict.waitNanos(), "the earliest exhausted bucket");
    }

    @Test
    void reportsPlainSuccessWhenBucketsHaveRoom() {
        Headers headers = Headers.of("anthropic-ratelimit-requests-remaining", "49",
                                     "anthropic-ratelimit-requests-reset", "2026-11-21T12:00:02Z");

        assertSame(UpstreamVerdict.OK, ADAPTER.classify(200, headers, new byte[0], NOW));
    }

    @Test
    void ignoresUnreadableResetAndPastReset() {
        Headers unreadable = Headers.of("anthropic-ratelimit-requests-remaining", "0",
                                        "anthropic-ratelimit-requests-reset", "soon");
        Headers past = Headers.of("anthropic-ratelimit-requests-remaining", "0",
                                  "anthropic-ratelimit-requests-reset", "2026-11-21T11:59:00Z");

        assertSame(UpstreamVerdict.OK, ADAPTER.classify(200, unreadable, new byte[0], NOW));
        assertEquals(0, ADAPTER.classify(200, past, new byte[0], NOW).waitNanos());
    }

    @Test
    void classifiesRateLimitWithoutAnyHint() {
        byte[] body = "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"slow down\"}}"
                .getBytes(StandardCharsets.UTF_8);

        UpstreamVerdict verdict = ADAPTER.classify(429, Headers.empty(), body, NOW);

        assertEquals(UpstreamVerdict.Kind.RATE_LIMITED, verdict.kind());
        assertFalse(verdict.hasHint());
    }

    private static Headers headers(JsonNode object) {
        Headers.Builder b = Headers.builder();
        for (Map.Entry<String, JsonNode> e : object.properties()) {
            b.add(e.getKey(), e.getValue().asText());
        }
        return b.build();
    }

    private static List<String> values(Headers headers, String name) {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < headers.size(); i++) {
            if (headers.name(i).equalsIgnoreCase(name)) {
                values.add(headers.value(i));
            }
        }
        return values;
    }
}
