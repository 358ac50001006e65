package dev.detour.bench;

import dev.detour.filter.FilterChain;
import dev.detour.filter.FilterOrder;
import dev.detour.filter.FilterPipeline;
import dev.detour.filter.GatewayFilter;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
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
 * {@link FilterPipeline#execute}: the chain runner's own cost, with synchronous pass-through filters
 * in front of a terminal filter that answers with an already completed response (as a cache hit or a
 * short-circuit would). The upstream I/O of the real terminal is not part of this.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FilterPipelineBenchmark {

    private static final GatewayResponse.Full OK = new GatewayResponse.Full(200,
            Headers.of("content-type", "application/json"), new byte[0]);

    /** Pass-through filters before the terminal: none (today's chain), or three (auth, rate limit, cache). */
    @Param({"0", "3"})
    public int passThrough;

    private FilterPipeline pipeline;
    private RequestContext ctx;

    @Setup
    public void setUp() {
        List<GatewayFilter> filters = new ArrayList<>();
        for (int i = 0; i < passThrough; i++) {
            filters.add(new PassThrough("pass-" + i, (i + 1) * 100));
        }
        filters.add(new Terminal());
        pipeline = FilterPipeline.of(filters);
        ctx = Fixtures.context(Fixtures.routes(), Fixtures.chatBody("gpt-4o-mini", false, 1024));
    }

    @Benchmark
    public CompletionStage<GatewayResponse> execute() {
        return pipeline.execute(ctx);
    }

    private static final class PassThrough implements GatewayFilter {
        private final String name;
        private final int order;

        PassThrough(String name, int order) {
            this.name = name;
            this.order = order;
        }

        @Override
        public int order() {
            return order;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public CompletionStage<GatewayResponse> filter(RequestContext c, FilterChain next) {
            return next.proceed(c);
        }
    }

    private static final class Terminal implements GatewayFilter {
        private static final CompletableFuture<GatewayResponse> DONE = CompletableFuture.completedFuture(OK);

        @Override
        public int order() {
            return FilterOrder.DISPATCH;
        }

        @Override
        public String name() {
            return "terminal";
        }

        @Override
        public CompletionStage<GatewayResponse> filter(RequestContext c, FilterChain next) {
            return DONE;
        }
    }
}
