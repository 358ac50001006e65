package dev.detour.ratelimit;

import dev.detour.api.Endpoint;
import dev.detour.api.SniffedRequest;
import dev.detour.config.ChainConfig;
import dev.detour.config.ConfigException;
import dev.detour.config.ConfigLoader;
import dev.detour.config.KeyHash;
import dev.detour.filter.Caller;
import dev.detour.filter.FilterChain;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestBody;
import dev.detour.filter.RequestContext;
import dev.detour.filter.RequestExecutor;
import dev.detour.routing.RouteTable;
import dev.detour.testing.TestContexts;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/** Config, contexts and a terminal chain for rate-limit tests. */
final class RateLimitTesting {

    /** Providers and routes the limits are added to: routes {@code m}, {@code mini} and {@code gpt-4o}. */
    private static final String BASE = """
            providers:
              mock:
                type: mock
            routes:
              - model: m
                targets:
                  - provider: mock
              - model: mini
                targets:
                  - provider: mock
              - model: gpt-4o
                targets:
                  - provider: mock
            """;

    private static final RouteTable ROUTES = TestContexts.routes();

    private RateLimitTesting() {
    }

    /** Returns the chain sections of {@code yaml} (limits, clients, policies), added to a small base config. */
    static ChainConfig chain(String yaml) {
        try {
            return ConfigLoader.parse(BASE + yaml, "test.yaml", Map.of()).chain();
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** Returns the text of a key hash for a client entry in YAML. */
    static String hash(String key) {
        return KeyHash.of(key).text();
    }

    /** Returns a chat context for model {@code m} with {@code caller}. */
    static RequestContext chat(Caller caller) {
        RequestContext ctx = TestContexts.newContext(RequestExecutor.DIRECT);
        ctx.caller(caller);
        return ctx;
    }

    /** Returns a chat context for {@code body} (routed by its model) with {@code caller}. */
    static RequestContext chat(Caller caller, String body) {
        RequestContext ctx = TestContexts.newContext(RequestExecutor.DIRECT, body);
        ctx.caller(caller);
        return ctx;
    }

    /** Returns a context for {@code endpoint} whose body is {@code body}, whatever it holds, routed to {@code m}. */
    static RequestContext raw(Endpoint endpoint, String body, RequestExecutor executor) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        RequestBody requestBody = new RequestBody() {
            @Override
            public int length() {
                return bytes.length;
            }

            @Override
            public InputStream newInputStream() {
                return new ByteArrayInputStream(bytes);
            }
        };
        SniffedRequest sniffed = new SniffedRequest("m", false, null, 0, 1);
        return new RequestContext("req_test", endpoint, name -> null, requestBody, sniffed,
                                  ROUTES.route("m"), executor, 0L);
    }

    /** Returns a caller. */
    static Caller caller(String client, String team, String tier) {
        return new Caller(client, team, tier, Map.of(), Set.of());
    }

    /** A terminal chain answering a fixed status, counting calls. */
    static final class Upstream implements FilterChain {
        final AtomicInteger calls = new AtomicInteger();
        int status = 200;

        @Override
        public CompletableFuture<GatewayResponse> proceed(RequestContext ctx) {
            calls.incrementAndGet();
            byte[] body = "{\"ok\":true}".getBytes(StandardCharsets.UTF_8);
            return CompletableFuture.completedFuture(
                    new GatewayResponse.Full(status, Headers.of("content-type", "application/json"), body));
        }
    }
}
