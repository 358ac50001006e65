package dev.detour.bench;

import dev.detour.routing.Route;
import dev.detour.routing.RouteTable;
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
 * {@link RouteTable#route}: the model-name lookup of every request, in a table of a few or of many
 * routes. {@code freshName} looks up a new {@code String} each time, as the server does with the name
 * the sniffer just read (its hash is not cached yet); {@code cachedName} reuses one instance.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RouteTableBenchmark {

    /** How many routes the table holds. */
    @Param({"4", "200"})
    public int routeCount;

    private RouteTable routes;
    private String name;
    private char[] nameChars;

    @Setup
    public void setUp() {
        StringBuilder yaml = new StringBuilder("""
                providers:
                  llm:
                    type: openai
                    base-url: http://127.0.0.1:9/v1
                    keys:
                      - id: bench
                        value: sk-bench-0000000000000000
                routes:
                """);
        for (int i = 0; i < routeCount; i++) {
            yaml.append("  - model: model-").append(i).append("-2024-07-18\n")
                .append("    targets:\n      - provider: llm\n");
        }
        routes = RouteTable.of(Fixtures.config(yaml.toString()), 1_700_000_000L);
        name = "model-" + (routeCount / 2) + "-2024-07-18";
        nameChars = name.toCharArray();
    }

    @Benchmark
    public Route cachedName() {
        return routes.route(name);
    }

    @Benchmark
    public Route freshName() {
        return routes.route(new String(nameChars));
    }
}
