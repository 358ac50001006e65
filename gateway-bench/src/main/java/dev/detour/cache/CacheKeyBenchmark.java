package dev.detour.cache;

import dev.detour.api.Endpoint;
import dev.detour.api.InvalidRequestException;
import dev.detour.api.RequestSniffer;
import dev.detour.config.ConfigException;
import dev.detour.config.ConfigLoader;
import dev.detour.config.GatewayConfig;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestBody;
import dev.detour.filter.RequestContext;
import dev.detour.filter.RequestExecutor;
import dev.detour.routing.RouteTable;
import dev.detour.time.NanoClock;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The response cache's per-request cost on a caching route: {@code key} canonicalises a chat body (about
 * 1 KB or 20 KB) and hashes it with the tenant and the route into a {@link CacheKey}; {@code keyTree} is the
 * same key computed the way Detour did before the canonicaliser streamed (a Jackson tree, {@link TreeKeys}), the
 * yardstick to read {@code key} against on a noisy machine; {@code lookup} adds the lookup in a
 * {@link ResponseCache} of 10,000 entries; {@code hit} is the whole filter answering a hit as JSON.
 *
 * <p>In package {@code dev.detour.cache} because keys and lookups are package-private there.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CacheKeyBenchmark {

    private static final String CONFIG = """
            providers:
              mock:
                type: mock
            routes:
              - model: gpt-4o-mini
                targets: [{provider: mock}]
                cache: {enabled: true}
            """;
    private static final String TURN = "{\"role\":\"user\",\"content\":\"Could you check where my order is? It left "
            + "the warehouse on Monday and the tracking page has not changed since. Order number 48213.\"},"
            + "{\"role\":\"assistant\",\"content\":\"Of course. Parcels usually take two to four working days; "
            + "I will look the tracking number up and get back to you.\"}";
    private static final byte[] ANSWER = ("{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"
            + "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
            + "\"It is on its way.\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,"
            + "\"completion_tokens\":5,\"total_tokens\":14}}").getBytes(StandardCharsets.UTF_8);

    /** Approximate body size: a short chat (1 KB) or a long conversation (20 KB). */
    @Param({"1024", "20480"})
    public int bodyBytes;

    private byte[] body;
    private byte[] fingerprint;
    private ResponseCache cache;
    private CacheFilter filter;
    private RequestContext ctx;

    @Setup
    public void setUp() throws IOException, ConfigException, InvalidRequestException {
        StringBuilder sb = new StringBuilder("{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"system\","
                                             + "\"content\":\"You answer customers of a bookshop.\"}");
        while (sb.length() < bodyBytes - 80) {
            sb.append(',').append(TURN);
        }
        sb.append("],\"temperature\":0.2,\"max_tokens\":256,\"user\":\"customer-4821\"}");
        body = sb.toString().getBytes(StandardCharsets.UTF_8);
        fingerprint = "gpt-4o-mini\nmock/gpt-4o-mini {}".getBytes(StandardCharsets.UTF_8);
        cache = ResponseCache.newCache(256L << 20, NanoClock.SYSTEM, Runnable::run);
        for (int i = 0; i < 10_000; i++) {
            byte[] other = ("{\"messages\":[{\"role\":\"user\",\"content\":\"question " + i + "\"}]}")
                    .getBytes(StandardCharsets.UTF_8);
            cache.put(CacheKeys.of(Endpoint.CHAT_COMPLETIONS, "team:default", fingerprint,
                                   new ByteArrayInputStream(other)), answer());
        }
        if (!key().equals(keyTree())) {
            throw new IllegalStateException("setup: the streaming and the tree canonicaliser disagree");
        }
        cache.put(key(), answer());
        GatewayConfig config = ConfigLoader.parse(CONFIG, "bench.yaml", Map.of());
        RouteTable routes = RouteTable.of(config, 1_700_000_000L);
        filter = CacheFilter.of(config, cache).orElseThrow();
        byte[] bytes = body;
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
        ctx = new RequestContext("req_bench", Endpoint.CHAT_COMPLETIONS, name -> null, requestBody,
                                 RequestSniffer.sniff(new ByteArrayInputStream(body)), routes.route("gpt-4o-mini"),
                                 RequestExecutor.DIRECT, System.nanoTime());
        GatewayResponse first = filter.filter(ctx, c -> CompletableFuture.completedFuture(
                new GatewayResponse.Full(200, Headers.of("content-type", "application/json"), ANSWER)))
                .toCompletableFuture().join();
        if (first.status() != 200) {
            throw new IllegalStateException("setup: the filter answered " + first.status());
        }
    }

    @Benchmark
    public CacheKey key() throws IOException {
        return CacheKeys.of(Endpoint.CHAT_COMPLETIONS, "team:default", fingerprint, new ByteArrayInputStream(body));
    }

    @Benchmark
    public CacheKey keyTree() throws IOException {
        return TreeKeys.of(Endpoint.CHAT_COMPLETIONS, "team:default", fingerprint, new ByteArrayInputStream(body));
    }

    @Benchmark
    public CachedAnswer lookup() throws IOException {
        return cache.get(key());
    }

    @Benchmark
    public GatewayResponse hit() {
        return filter.filter(ctx, c -> {
            throw new IllegalStateException("a hit must not call the upstream");
        }).toCompletableFuture().join();
    }

    private static CachedAnswer answer() {
        return new CachedAnswer(Endpoint.CHAT_COMPLETIONS, ANSWER, true, System.nanoTime(),
                                TimeUnit.HOURS.toNanos(1), 0);
    }
}
