package dev.detour.bench;

import dev.detour.config.ApiKeyConfig;
import dev.detour.filter.RequestContext;
import dev.detour.provider.OpenAiAdapter;
import dev.detour.routing.RouteTable;
import dev.detour.routing.Target;
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
 * {@link OpenAiAdapter#prepare}: the upstream request of one attempt (headers with the key, path, and
 * the body plan), for a route that keeps the client's model name (bytes forwarded as they are) and
 * one that renames it (the model value is spliced).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class OpenAiAdapterBenchmark {

    /** The requested model: {@code gpt-4o-mini} routes to itself, {@code fast} is renamed upstream. */
    @Param({"gpt-4o-mini", "fast"})
    public String model;

    private RequestContext ctx;
    private Target target;
    private ApiKeyConfig key;

    @Setup
    public void setUp() {
        RouteTable routes = Fixtures.routes();
        ctx = Fixtures.context(routes, Fixtures.chatBody(model, false, 1024));
        target = ctx.route().targets().get(0);
        key = target.keys().next();
    }

    @Benchmark
    public Object prepare() throws Exception {
        return OpenAiAdapter.INSTANCE.prepare(ctx, target, key);
    }
}
