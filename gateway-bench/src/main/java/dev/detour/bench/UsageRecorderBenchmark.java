package dev.detour.bench;

import dev.detour.filter.Caller;
import dev.detour.filter.RequestContext;
import dev.detour.routing.RouteTable;
import dev.detour.routing.Target;
import dev.detour.time.NanoClock;
import dev.detour.usage.RequestUsage;
import dev.detour.usage.UsageLedger;
import dev.detour.usage.UsageRecorder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link UsageRecorder#record}: what counting one finished request costs (its client, team, route and key, each
 * for the day, the month and since start), on one thread and on two sharing the same team and route.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class UsageRecorderBenchmark {

    private UsageRecorder recorder;
    private RouteTable routes;
    private byte[] body;

    @Setup
    public void setUp() {
        recorder = new UsageRecorder(new UsageLedger(NanoClock.SYSTEM));
        routes = Fixtures.routes();
        body = Fixtures.chatBody("gpt-4o-mini", false, 1024);
    }

    /** One request per thread, finished and ready to count. */
    @State(Scope.Thread)
    public static class Request {
        RequestContext ctx;

        @Setup
        public void setUp(UsageRecorderBenchmark bench) {
            ctx = Fixtures.context(bench.routes, bench.body);
            ctx.caller(new Caller("web-app", "growth", "pro", Map.of(), Set.of()));
            Target target = ctx.route().targets().get(0);
            ctx.recordAttempt(target.provider().name(), target.model(), "k1", target.price());
            byte[] answer = ("{\"usage\":{\"prompt_tokens\":180,\"completion_tokens\":96,\"total_tokens\":276,"
                             + "\"prompt_tokens_details\":{\"cached_tokens\":64}}}").getBytes(StandardCharsets.UTF_8);
            ctx.usage().scan(answer, 0, answer.length);
        }
    }

    @Benchmark
    public RequestUsage record(Request request) {
        return recorder.record(request.ctx);
    }

    @Benchmark
    @Threads(2)
    public RequestUsage recordOnTwoThreads(Request request) {
        return recorder.record(request.ctx);
    }
}
