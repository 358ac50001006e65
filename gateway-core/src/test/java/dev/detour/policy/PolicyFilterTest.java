package dev.detour.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.api.Endpoint;
import dev.detour.api.RequestSniffer;
import dev.detour.config.ConfigLoader;
import dev.detour.config.GatewayConfig;
import dev.detour.filter.Caller;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestBody;
import dev.detour.filter.RequestContext;
import dev.detour.provider.UpstreamVerdict;
import dev.detour.routing.RouteTable;
import dev.detour.testing.FakeClock;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class PolicyFilterTest {

    private static final String CONFIG = """
            providers:
              a:
                type: openai
                base-url: https://a.example/v1
                keys: [{id: a1, value: sk-aaaaaaaaaaaa1}, {id: a2, value: sk-aaaaaaaaaaaa2},
                       {id: a3, value: sk-aaaaaaaaaaaa3}, {id: a4, value: sk-aaaaaaaaaaaa4}]
              r:
                type: openai
                base-url: https://r.example/v1
                keys: [{id: r1, value: sk-rrrrrrrrrrrr1}]
            routes:
              - model: gpt-4o
                targets: [{provider: a}]
              - model: gpt-4o-reserved
                targets: [{provider: r}]
            policies:
              - name: critical
                match: {priority: [critical]}
                routes: {gpt-4o: gpt-4o-reserved}
              - name: free
                match: {tiers: [free]}
                limits:
                  - name: free-rpm
                    scope: client
                    requests: {capacity: 20, per: 1m}
              - name: shared
                match: {teams: ["growth*"]}
                admission: {reserve: 50%, refuse: [batch]}
            """;

    private final FakeClock clock = new FakeClock();
    private final RouteTable routes;
    private final PolicyFilter filter;

    PolicyFilterTest() throws Exception {
        GatewayConfig config = ConfigLoader.parse(CONFIG, "test.yaml", Map.of());
        routes = RouteTable.of(config, 0, clock);
        filter = new PolicyFilter(config.chain(), routes);
    }

    private RequestContext ctx(Caller caller, String... headers) throws Exception {
        byte[] bytes = "{\"model\":\"gpt-4o\",\"messages\":[]}".getBytes(StandardCharsets.UTF_8);
        Map<String, String> h = new HashMap<>();
        for (int i = 0; i < headers.length; i += 2) {
            h.put(headers[i], headers[i + 1]);
        }
        RequestContext ctx = new RequestContext("req_1", Endpoint.CHAT_COMPLETIONS, name -> h.get(name.toString()),
                new RequestBody() {
                    @Override
                    public int length() {
                        return bytes.length;
                    }

                    @Override
                    public InputStream newInputStream() {
                        return new ByteArrayInputStream(bytes);
                    }
                }, RequestSniffer.sniff(new ByteArrayInputStream(bytes)), routes.route("gpt-4o"), clock.executor(),
                clock.nanoTime());
        ctx.caller(caller);
        return ctx;
    }

    private static Caller caller(String tier, String team, Set<String> canOverride) {
        return new Caller("app", team, tier, Map.of(), canOverride);
    }

    private GatewayResponse run(RequestContext ctx) {
        return filter.filter(ctx, c -> CompletableFuture.completedFuture(
                new GatewayResponse.Full(200, Headers.empty(), new byte[0]))).toCompletableFuture().getNow(null);
    }

    @Test
    void honoursContextHeadersOnlyWhereTheClientMayOverride() throws Exception {
        RequestContext allowed = ctx(caller("pro", "t", Set.of("user", "session", "priority", "tier")),
                                     "x-detour-user", "u1", "x-detour-session", "s1", "x-detour-priority", "batch",
                                     "x-detour-tier", "free");
        RequestContext denied = ctx(caller("pro", "t", Set.of()), "x-detour-user", "u1", "x-detour-session", "s1",
                                    "x-detour-priority", "critical", "x-detour-tier", "free");

        run(allowed);
        run(denied);

        assertEquals("u1", allowed.endUser());
        assertEquals("s1", allowed.session());
        assertEquals("batch", allowed.priority());
        assertEquals("free", allowed.tier());
        assertNull(denied.endUser());
        assertNull(denied.session());
        assertEquals("interactive", denied.priority());
        assertEquals("pro", denied.tier(), "a client cannot promote itself");
    }

    @Test
    void refusesAMalformedPriority() throws Exception {
        GatewayResponse r = run(ctx(Caller.ANONYMOUS, "x-detour-priority", "urgent"));

        assertEquals(400, r.status());
    }

    @Test
    void mapsCriticalTrafficToTheReservedRoute() throws Exception {
        RequestContext ctx = ctx(Caller.ANONYMOUS, "x-detour-priority", "critical");

        GatewayResponse r = run(ctx);

        assertEquals("gpt-4o-reserved", ctx.route().model());
        assertEquals("critical", ctx.policy());
        assertEquals("critical", r.headers().get("x-detour-policy"));
    }

    @Test
    void addsThePolicyLimitsForTheRateLimiter() throws Exception {
        RequestContext ctx = ctx(caller("free", "t", Set.of()));

        run(ctx);

        assertEquals("free", ctx.policy());
        assertEquals(List.of("free-rpm"), ctx.attr(dev.detour.ratelimit.RateLimitFilter.POLICY_LIMITS).stream().map(l -> l.name()).toList());
    }

    @Test
    void passesWithoutPolicyWhenNothingMatches() throws Exception {
        RequestContext ctx = ctx(caller("pro", "other", Set.of()));

        GatewayResponse r = run(ctx);

        assertEquals(200, r.status());
        assertEquals("-", ctx.policy());
        assertNull(r.headers().get("x-detour-policy"));
    }

    @Test
    void refusesBatchTrafficFirstWhenCapacityRunsLow() throws Exception {
        var pool = routes.pools().get("a");
        for (String id : List.of("a1", "a2", "a3")) {
            pool.report(pool.key(id), new UpstreamVerdict(UpstreamVerdict.Kind.RATE_LIMITED, 5_000_000_000L, "x"));
        }
        Set<String> all = Set.of("priority");

        GatewayResponse batch = run(ctx(caller("pro", "growth-eu", all), "x-detour-priority", "batch"));
        GatewayResponse interactive = run(ctx(caller("pro", "growth-eu", all)));

        assertEquals(429, batch.status());
        assertEquals("5", batch.headers().get("retry-after"));
        String message = new ObjectMapper().readTree(((GatewayResponse.Full) batch).body()).at("/error/message")
                .asText();
        assertTrue(message.contains("1 of 4 keys are available") && message.contains("'shared' (50%)"), message);
        assertEquals(200, interactive.status(), "interactive traffic keeps getting through");
        clock.advanceMillis(5000);
        assertEquals(200, run(ctx(caller("pro", "growth-eu", all), "x-detour-priority", "batch")).status());
    }
}
