package dev.detour.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.api.Endpoint;
import dev.detour.api.RequestSniffer;
import dev.detour.config.ConfigLoader;
import dev.detour.config.GatewayConfig;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestBody;
import dev.detour.filter.RequestContext;
import dev.detour.config.RetryTrigger;
import dev.detour.keys.KeyState;
import dev.detour.metrics.GatewayEvents;
import dev.detour.provider.UpstreamException;
import dev.detour.provider.UpstreamRequest;
import dev.detour.provider.UpstreamTransport;
import dev.detour.provider.UpstreamVerdict;
import dev.detour.testing.FakeClock;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The router through the dispatch filter, with a scripted transport and a fake clock: each case says
 * what the upstreams answer and what the client gets. No sockets, no sleeping.
 */
class DispatchFilterTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BODY = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    private final FakeClock clock = new FakeClock();
    private DispatchFilter filter;
    private RequestContext lastContext;
    private final List<String> sent = new ArrayList<>();
    /** What the filter told its {@link GatewayEvents}, one line per call. */
    private final List<String> events = new ArrayList<>();
    private final GatewayEvents recorder = new GatewayEvents() {
        @Override
        public void attemptEnded(String route, String provider, String model, UpstreamVerdict.Kind outcome) {
            events.add("attempt " + route + " " + provider + "/" + model + " " + outcome);
        }

        @Override
        public void retried(String route, String provider, String model, RetryTrigger reason) {
            events.add("retry " + route + " " + provider + "/" + model + " " + reason);
        }

        @Override
        public void fellBack(String route, String provider, String model, RetryTrigger reason) {
            events.add("fallback " + route + " " + provider + "/" + model + " " + reason);
        }
    };
    private final Map<String, Deque<Function<UpstreamRequest, CompletionStage<GatewayResponse>>>> script =
            new HashMap<>();
    private final UpstreamTransport transport = (ctx, request) -> {
        String who = request.provider().name() + "/" + request.key().id();
        sent.add(who);
        Deque<Function<UpstreamRequest, CompletionStage<GatewayResponse>>> answers = script.get(who);
        if (answers == null || answers.isEmpty()) {
            return CompletableFuture.completedFuture(ok());
        }
        Function<UpstreamRequest, CompletionStage<GatewayResponse>> next =
                answers.size() > 1 ? answers.poll() : answers.peek();
        return next.apply(request);
    };

    private static final String CONFIG = """
            providers:
              a:
                type: openai
                base-url: https://a.example/v1
                keys: [{id: a1, value: sk-aaaaaaaaaaaa1}, {id: a2, value: sk-aaaaaaaaaaaa2}]
              b:
                type: openai
                base-url: https://b.example/v1
                keys: [{id: b1, value: sk-bbbbbbbbbbbb1}]
            routes:
              - model: m
                max-wait: 0s
                targets:
                  - provider: a
                  - provider: b
            """;

    private RouteTable routes(String yaml) throws Exception {
        GatewayConfig config = ConfigLoader.parse(yaml, "test.yaml", Map.of());
        return RouteTable.of(config, 0, clock);
    }

    private void answer(String who, GatewayResponse... responses) {
        Deque<Function<UpstreamRequest, CompletionStage<GatewayResponse>>> q =
                script.computeIfAbsent(who, k -> new ArrayDeque<>());
        for (GatewayResponse r : responses) {
            q.add(req -> CompletableFuture.completedFuture(r));
        }
    }

    /** Scripts {@code response} for {@code who}, taking {@code millis} of the fake clock to arrive. */
    private void slowAnswer(String who, long millis, GatewayResponse response) {
        script.computeIfAbsent(who, k -> new ArrayDeque<>()).add(req -> {
            clock.advanceMillis(millis);
            return CompletableFuture.completedFuture(response);
        });
    }

    private void fail(String who, UpstreamException e) {
        script.computeIfAbsent(who, k -> new ArrayDeque<>()).add(req -> CompletableFuture.failedFuture(e));
    }

    private static GatewayResponse.Full ok() {
        return new GatewayResponse.Full(200, Headers.of("content-type", "application/json"),
                                        "{\"id\":\"x\"}".getBytes(StandardCharsets.UTF_8));
    }

    private static GatewayResponse.Full error(int status, String code, String... headers) {
        byte[] body = ("{\"error\":{\"message\":\"m\",\"type\":\"t\",\"param\":null,\"code\":\"" + code + "\"}}")
                .getBytes(StandardCharsets.UTF_8);
        return new GatewayResponse.Full(status, Headers.of(headers).with("content-type", "application/json"), body);
    }

    private GatewayResponse run(RouteTable table, String model, String... headers) throws Exception {
        return dispatch(table, model, headers).getNow(null);
    }

    private CompletableFuture<GatewayResponse> dispatch(RouteTable table, String model, String... headers)
            throws Exception {
        String body = BODY.replace("\"m\"", "\"" + model + "\"");
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        Map<String, String> h = new HashMap<>();
        for (int i = 0; i < headers.length; i += 2) {
            h.put(headers[i], headers[i + 1]);
        }
        RequestContext ctx = new RequestContext("req_1", Endpoint.CHAT_COMPLETIONS,
                name -> h.get(name.toString()), new RequestBody() {
                    @Override
                    public int length() {
                        return bytes.length;
                    }

                    @Override
                    public InputStream newInputStream() {
                        return new ByteArrayInputStream(bytes);
                    }
                }, RequestSniffer.sniff(new ByteArrayInputStream(bytes)), table.route(model), clock.executor(),
                clock.nanoTime());
        lastContext = ctx;
        ctx.session(h.get("x-detour-session")); // what the policy filter resolves in the server
        if (filter == null) {
            filter = new DispatchFilter(transport, clock, new AffinityTable(), recorder); // one per config version, as in the server
        }
        return filter.filter(ctx, c -> { throw new AssertionError("dispatch is terminal"); }).toCompletableFuture();
    }

    private static JsonNode errorOf(GatewayResponse r) throws Exception {
        return JSON.readTree(((GatewayResponse.Full) r).body()).get("error");
    }

    @Test
    void rotatesToNextKeyAfter429() throws Exception {
        RouteTable table = routes(CONFIG);
        answer("a/a1", error(429, "rate_limit_exceeded", "retry-after", "5"));

        GatewayResponse r = run(table, "m");

        assertEquals(200, r.status());
        assertEquals(List.of("a/a1", "a/a2"), sent);
        assertEquals(KeyState.COOLING, table.pools().get("a").key("a1").state(clock.nanoTime()));
    }

    @Test
    void skipsCoolingKeyOnLaterRequestsUntilItsTimeIsUp() throws Exception {
        RouteTable table = routes(CONFIG);
        answer("a/a1", error(429, "rate_limit_exceeded", "retry-after", "5"), ok());
        run(table, "m");
        sent.clear();

        run(table, "m");
        run(table, "m");
        clock.advanceMillis(5000);
        run(table, "m");
        run(table, "m");

        assertEquals(List.of("a/a2", "a/a2", "a/a1", "a/a2"), sent);
    }

    @Test
    void movesToNextTargetWhenEveryKeyIsExhausted() throws Exception {
        RouteTable table = routes(CONFIG);
        answer("a/a1", error(429, "insufficient_quota"));
        answer("a/a2", error(429, "rate_limit_exceeded"));

        GatewayResponse r = run(table, "m");

        assertEquals(200, r.status());
        assertEquals(List.of("a/a1", "a/a2", "b/b1"), sent);
    }

    @Test
    void answers429WithSoonestRetryAfterWhenEverythingIsExhausted() throws Exception {
        RouteTable table = routes(CONFIG);
        answer("a/a1", error(429, "rate_limit_exceeded", "retry-after", "20"));
        answer("a/a2", error(429, "rate_limit_exceeded", "retry-after", "9"));
        answer("b/b1", error(429, "rate_limit_exceeded", "retry-after", "30"));

        GatewayResponse r = run(table, "m");

        assertEquals(429, r.status());
        assertEquals("9", r.headers().get("retry-after"));
        JsonNode error = errorOf(r);
        assertEquals("all_keys_exhausted", error.get("code").asText());
        String message = error.get("message").asText();
        assertTrue(message.contains("provider 'a' (key a1 cooling for 20 s, key a2 cooling for 9 s)"), message);
        assertTrue(message.contains("provider 'b' (key b1 cooling for 30 s)"), message);
    }

    @Test
    void answers429WithoutCallingUpstreamWhileEverythingCools() throws Exception {
        RouteTable table = routes(CONFIG);
        answer("a/a1", error(429, "rate_limit_exceeded", "retry-after", "20"));
        answer("a/a2", error(429, "rate_limit_exceeded", "retry-after", "20"));
        answer("b/b1", error(429, "rate_limit_exceeded", "retry-after", "20"));
        run(table, "m");
        sent.clear();

        GatewayResponse r = run(table, "m");

        assertEquals(429, r.status());
        assertTrue(sent.isEmpty(), "no attempt is wasted on cooling keys");
    }

    @Test
    void waitsForACoolingKeyWhenNothingElseCanServeSooner() throws Exception {
        RouteTable table = routes(CONFIG.replace("max-wait: 0s", "max-wait: 3s"));
        answer("a/a1", error(429, "rate_limit_exceeded", "retry-after", "2"), ok());
        answer("a/a2", error(429, "rate_limit_exceeded", "retry-after", "2"), ok());
        answer("b/b1", error(429, "rate_limit_exceeded", "retry-after", "2"), ok());

        CompletableFuture<GatewayResponse> f = dispatch(table, "m");

        assertFalse(f.isDone(), "waiting, not answering");
        clock.advanceMillis(1999);
        assertFalse(f.isDone(), "not before the key's time");
        clock.advanceMillis(201);
        assertTrue(f.isDone(), "within the key's time plus at most a tenth of jitter");
        assertEquals(200, f.getNow(null).status());
        assertEquals(4, sent.size());
    }

    @Test
    void reportsEachAttemptAndWhyTheRequestMovedOn() throws Exception {
        RouteTable table = routes(CONFIG);
        answer("a/a1", error(429, "rate_limit_exceeded", "retry-after", "5"));
        answer("a/a2", error(500, "server_error"));

        GatewayResponse r = run(table, "m");

        assertEquals(200, r.status());
        assertEquals(List.of("attempt m a/m RATE_LIMITED", "retry m a/m RATE_LIMIT",
                             "attempt m a/m SERVER_ERROR", "fallback m a/m SERVER_ERROR",
                             "attempt m b/m SUCCESS"), events);
    }

    @Test
    void reportsNoMoveForAnAnswerThatIsNotRetried() throws Exception {
        RouteTable table = routes(CONFIG);
        answer("a/a1", error(400, "invalid_value"));

        run(table, "m");

        assertEquals(List.of("attempt m a/m CLIENT_ERROR"), events);
    }

    @Test
    void reportsTheContextFallbackWithItsReason() throws Exception {
        RouteTable table = routes(CONFIG.replace("max-wait: 0s", "max-wait: 0s\n    context-fallback: {provider: b, "
                                                                 + "model: big-context}"));
        answer("a/a1", error(400, "context_length_exceeded"));

        run(table, "m");

        assertEquals(List.of("attempt m a/m CONTEXT_TOO_LONG", "fallback m a/m CONTEXT_LENGTH",
                             "attempt m b/big-context SUCCESS"), events);
    }

    @Test
    void addsUpstreamTimeOfEveryAttemptAndTheWaitsToTheContext() throws Exception {
        RouteTable table = routes(CONFIG.replace("max-wait: 0s", "max-wait: 3s"));
        slowAnswer("a/a1", 30, error(429, "rate_limit_exceeded", "retry-after", "2"));
        slowAnswer("a/a2", 40, error(429, "rate_limit_exceeded", "retry-after", "2"));
        slowAnswer("b/b1", 50, error(429, "rate_limit_exceeded", "retry-after", "2"));
        slowAnswer("a/a1", 20, ok());

        CompletableFuture<GatewayResponse> f = dispatch(table, "m");
        clock.advanceMillis(2500);

        assertEquals(200, f.getNow(null).status());
        assertEquals(140_000_000L, lastContext.upstreamTotalNanos(), "30 + 40 + 50 + 20 ms of upstream attempts");
        long waited = lastContext.waitedNanos();
        assertTrue(waited >= 1_880_000_000L && waited <= 2_100_000_000L, "one wait of about 2 s: " + waited);
    }

    @Test
    void doesNotWaitLongerThanMaxWait() throws Exception {
        RouteTable table = routes(CONFIG.replace("max-wait: 0s", "max-wait: 1s"));
        answer("a/a1", error(429, "rate_limit_exceeded", "retry-after", "5"));
        answer("a/a2", error(429, "rate_limit_exceeded", "retry-after", "5"));
        answer("b/b1", error(429, "rate_limit_exceeded", "retry-after", "5"));

        CompletableFuture<GatewayResponse> f = dispatch(table, "m");

        assertTrue(f.isDone());
        assertEquals(429, f.getNow(null).status());
        assertEquals(0, clock.pendingTasks());
    }

    @Test
    void fallsBackOnServerErrorAndTimeout() throws Exception {
        RouteTable table = routes(CONFIG);
        answer("a/a1", error(500, "server_error"));
        GatewayResponse r1 = run(table, "m");
        sent.clear();
        fail("a/a2", new UpstreamException(UpstreamException.Kind.FIRST_BYTE_TIMEOUT, "slow"));

        GatewayResponse r2 = run(table, "m");

        assertEquals(200, r1.status());
        assertEquals(200, r2.status());
        assertEquals(List.of("a/a2", "b/b1"), sent);
    }

    @Test
    void returnsUpstreamErrorWhenRetryOnExcludesIt() throws Exception {
        RouteTable table = routes(CONFIG.replace("max-wait: 0s", "max-wait: 0s\n    retry-on: [rate-limit]"));
        answer("a/a1", error(500, "server_error"));

        GatewayResponse r = run(table, "m");

        assertEquals(500, r.status());
        assertEquals(List.of("a/a1"), sent);
    }

    @Test
    void neverRetriesClientErrors() throws Exception {
        RouteTable table = routes(CONFIG);
        answer("a/a1", error(400, "invalid_value"));

        GatewayResponse r = run(table, "m");

        assertEquals(400, r.status());
        assertEquals(List.of("a/a1"), sent);
    }

    @Test
    void contextOverflowGoesToTheContextFallback() throws Exception {
        RouteTable table = routes(CONFIG.replace("max-wait: 0s", "max-wait: 0s\n    context-fallback: {provider: b, "
                                                                 + "model: big-context}"));
        answer("a/a1", error(400, "context_length_exceeded"));

        GatewayResponse r = run(table, "m");

        assertEquals(200, r.status());
        assertEquals(List.of("a/a1", "b/b1"), sent);
    }

    @Test
    void requestTooLargeForThePoolSkipsItsOtherKeys() throws Exception {
        RouteTable table = routes(CONFIG);
        script.computeIfAbsent("a/a1", k -> new ArrayDeque<>()).add(req -> CompletableFuture.completedFuture(
                new GatewayResponse.Full(429, Headers.of("content-type", "application/json"),
                        ("{\"error\":{\"message\":\"Request too large for gpt-4o on tokens per min (TPM): "
                         + "Limit 30000\",\"type\":\"tokens\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}")
                                .getBytes(StandardCharsets.UTF_8))));

        GatewayResponse r = run(table, "m");

        assertEquals(200, r.status());
        assertEquals(List.of("a/a1", "b/b1"), sent);
        assertEquals(KeyState.AVAILABLE, table.pools().get("a").key("a1").state(clock.nanoTime()));
    }

    @Test
    void disabledKeysLeadTo503WhenNothingElseIsLeft() throws Exception {
        RouteTable table = routes("""
                providers:
                  a:
                    type: openai
                    base-url: https://a.example/v1
                    keys: [{id: a1, value: sk-aaaaaaaaaaaa1}]
                routes:
                  - model: m
                    targets: [{provider: a}]
                """);
        answer("a/a1", error(401, "invalid_api_key"));

        GatewayResponse first = run(table, "m");
        GatewayResponse second = run(table, "m");

        assertEquals(503, first.status());
        assertEquals("no_usable_key", errorOf(first).get("code").asText());
        assertEquals(503, second.status());
        assertEquals(List.of("a/a1"), sent);
    }

    @Test
    void openCircuitBreakersLeadTo503() throws Exception {
        RouteTable table = routes(CONFIG.replace("max-wait: 0s", "max-wait: 0s\n    circuit-breaker: {failures: 1}"));
        answer("a/a1", error(500, "server_error"));
        answer("a/a2", error(500, "server_error"));
        answer("b/b1", error(500, "server_error"));
        run(table, "m");
        sent.clear();

        GatewayResponse r = run(table, "m");

        assertEquals(503, r.status());
        assertEquals("targets_failing", errorOf(r).get("code").asText());
        assertNotNull(r.headers().get("retry-after"));
        assertTrue(sent.isEmpty());
    }

    @Test
    void boundsAttempts() throws Exception {
        RouteTable table = routes(CONFIG.replace("max-wait: 0s", "max-wait: 0s\n    max-attempts: 2"));
        answer("a/a1", error(429, "rate_limit_exceeded"));
        answer("a/a2", error(429, "rate_limit_exceeded"));

        GatewayResponse r = run(table, "m");

        assertEquals(429, r.status());
        assertEquals(2, sent.size());
    }

    @Test
    void sessionSticksToItsKeyAndYieldsWhenItCools() throws Exception {
        RouteTable table = routes(CONFIG);
        run(table, "m", "x-detour-session", "s1");
        String first = sent.get(0);
        sent.clear();

        run(table, "m", "x-detour-session", "s1");
        run(table, "m", "x-detour-session", "s1");
        answer(first, error(429, "rate_limit_exceeded", "retry-after", "10"));
        run(table, "m", "x-detour-session", "s1");

        assertEquals(List.of(first, first, first), sent.subList(0, 3));
        assertEquals(4, sent.size());
        assertFalse(sent.get(3).equals(first), "affinity yields to another key at once");
    }

    @Test
    void appliesTargetParameterOverrides() throws Exception {
        RouteTable table = routes(CONFIG.replace("      - provider: a\n",
                "      - provider: a\n        model: real-model\n        params: {temperature: 0.1, top_p: 1}\n"));
        List<byte[]> bodies = new ArrayList<>();
        script.computeIfAbsent("a/a1", k -> new ArrayDeque<>()).add(req -> {
            bodies.add(((dev.detour.provider.UpstreamBody.Replace) req.body()).bytes());
            return CompletableFuture.completedFuture(ok());
        });

        run(table, "m");

        JsonNode sentBody = JSON.readTree(bodies.get(0));
        assertEquals(0.1, sentBody.get("temperature").asDouble());
        assertEquals(1, sentBody.get("top_p").asInt());
        assertEquals("real-model", sentBody.get("model").asText());
        assertEquals("hi", sentBody.at("/messages/0/content").asText());
    }

    @Test
    void stopsWhenTheClientWentAway() throws Exception {
        RouteTable table = routes(CONFIG);
        CompletableFuture<GatewayResponse> pending = new CompletableFuture<>();
        script.computeIfAbsent("a/a1", k -> new ArrayDeque<>()).add(req -> pending);
        CompletableFuture<GatewayResponse> f = dispatch(table, "m");

        lastContext.cancel();
        pending.completeExceptionally(new UpstreamException(UpstreamException.Kind.CLOSED, "cancelled"));

        assertTrue(f.isCompletedExceptionally());
        assertEquals(1, sent.size(), "no further attempt for a client that left");
        assertEquals(KeyState.AVAILABLE, table.pools().get("a").key("a1").state(clock.nanoTime()));
    }
}
