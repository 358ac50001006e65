package dev.detour.bench;

import dev.detour.api.InvalidRequestException;
import dev.detour.api.RequestSniffer;
import dev.detour.api.SniffedRequest;
import java.io.ByteArrayInputStream;
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
 * {@link RequestSniffer#sniff}: one streaming-parser pass over a chat body to find {@code model},
 * {@code stream} and {@code user} and to check that the body is one JSON object. Runs once per request
 * on the event loop, so its cost scales with the body size.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RequestSnifferBenchmark {

    /** Approximate body size: a short chat (1 KB) or a long conversation (20 KB). */
    @Param({"1024", "20480"})
    public int bodyBytes;

    private byte[] body;

    @Setup
    public void setUp() {
        body = Fixtures.chatBody("gpt-4o-mini", false, bodyBytes);
    }

    @Benchmark
    public SniffedRequest sniff() throws InvalidRequestException {
        return RequestSniffer.sniff(new ByteArrayInputStream(body));
    }
}
