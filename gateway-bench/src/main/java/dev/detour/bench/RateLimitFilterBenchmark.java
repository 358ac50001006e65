package dev.detour.bench;

import dev.detour.api.Endpoint;
import dev.detour.api.InvalidRequestException;
import dev.detour.api.RequestSniffer;
import dev.detour.api.SniffedRequest;
import dev.detour.filter.Caller;
import dev.detour.filter.FilterChain;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.filter.RequestExecutor;
import dev.detour.ratelimit.BucketStore;
import dev.detour.ratelimit.RateLimitFilter;
import dev.detour.routing.Route;
import dev.detour.time.NanoClock;
import java.io.ByteArrayInputStream;
import java.util.Map;
import java.util.Set;
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
 * The {@code rate-limit} filter's whole per-request work under a token limit that never refuses: the
 * {@code scripts/bench} "chain on" team limit of 2,000,000,000 tokens a minute, for a chat request of about
 * 1 KB (or 20 KB). That is collecting the limits, estimating the request's tokens, the bucket take, and
 * settling the reservation to the usage the upstream reported once the response is done.
 *
 * <p>Each operation builds a fresh {@link RequestContext} (its completion actions run once), from a body
 * sniffed once at setup; the terminal answers at once and reports a usage, as an adapter would. The bucket
 * stays far from empty, so this is the common case the two-tier estimate is for.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RateLimitFilterBenchmark {

    private static final String LIMITS = """
            limits:
              - name: team-tokens
                scope: team
                tokens: {capacity: 2000000000, per: 1m}
            """;
    private static final GatewayResponse.Full OK = new GatewayResponse.Full(200,
            Headers.of("content-type", "application/json"), new byte[0]);
    private static final CompletableFuture<GatewayResponse> DONE = CompletableFuture.completedFuture(OK);
    private static final Caller CALLER = new Caller("bench", "bench", "default", Map.of(), Set.of());

    /** The approximate size of the chat request body, in bytes. */
    @Param({"1024", "20480"})
    public int bodyBytes;

    private RateLimitFilter filter;
    private Fixtures.BytesBody body;
    private SniffedRequest sniffed;
    private Route route;
    private FilterChain upstream;

    @Setup
    public void setUp() throws InvalidRequestException {
        filter = new RateLimitFilter(Fixtures.config(Fixtures.CONFIG + LIMITS).chain(),
                                     BucketStore.newLocal(NanoClock.SYSTEM), NanoClock.SYSTEM);
        byte[] bytes = Fixtures.chatBody("gpt-4o-mini", false, bodyBytes);
        body = new Fixtures.BytesBody(bytes);
        sniffed = RequestSniffer.sniff(new ByteArrayInputStream(bytes));
        route = Fixtures.routes().route(sniffed.model());
        upstream = c -> {
            c.usageSink().record(300, 60, 360, -1);
            return DONE;
        };
    }

    @Benchmark
    public GatewayResponse admit() {
        RequestContext ctx = new RequestContext("req_0123456789abcdef01234567", Endpoint.CHAT_COMPLETIONS,
                                                name -> null, body, sniffed, route, RequestExecutor.DIRECT, 0L);
        ctx.caller(CALLER);
        GatewayResponse response = filter.filter(ctx, upstream).toCompletableFuture().join();
        ctx.complete();
        return response;
    }
}
