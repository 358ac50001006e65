package dev.detour.bench;

import dev.detour.api.UsageScanner;
import dev.detour.provider.ByteSink;
import dev.detour.provider.ResponseTranslator.TranslationException;
import dev.detour.provider.UsageChunkFilter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
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
 * What relaying a stream costs when Detour asked for its usage on the client's behalf: {@link UsageChunkFilter}
 * over a stream shaped as the {@code scripts/bench} one (21 chunks, each ending in {@code "usage":null}, then the usage chunk and
 * {@code [DONE]}), one event per read as they arrive; {@code plain} is the same stream as the upstream sends it
 * when nobody asks (no {@code "usage"} anywhere), the yardstick for what the ask adds. A new filter per
 * invocation, as per request.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class UsageChunkFilterBenchmark {

    /** {@code asked}: the stream with the usage Detour asked for; {@code plain}: without it. */
    @Param({"asked", "plain"})
    public String stream;

    private static final String PREFIX = "{\"id\":\"chatcmpl-BnchK7x2q9sLwQ4mR8vTzY1pE3aJd\",\"object\":"
            + "\"chat.completion.chunk\",\"created\":1751550000,\"model\":\"gpt-4o-mini-2024-07-18\","
            + "\"service_tier\":\"default\",\"system_fingerprint\":\"fp_34a54ae93c\",\"choices\":";

    private ByteBuffer[] events;
    private final ByteSink sink = (bytes, offset, length) -> { };

    @Setup
    public void setUp() {
        String nullUsage = stream.equals("asked") ? ",\"usage\":null" : "";
        String[] words = {"", "Thanks", " for", " your", " order", "!", " Your", " parcel", " leaves", " the",
                          " warehouse", " soon", ".", " Switch", " order", " BK-2024-118734", " to", " express",
                          " (9.90", " EUR", ")?"};
        int count = words.length + (stream.equals("asked") ? 2 : 1);
        events = new ByteBuffer[count];
        for (int i = 0; i < words.length; i++) {
            String delta = i == 0 ? "{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}"
                                  : "{\"content\":\"" + words[i] + "\"}";
            events[i] = event("data: " + PREFIX + "[{\"index\":0,\"delta\":" + delta
                              + ",\"logprobs\":null,\"finish_reason\":null}]" + nullUsage + "}\n\n");
        }
        if (stream.equals("asked")) {
            events[words.length] = event("data: " + PREFIX + "[],\"usage\":{\"prompt_tokens\":231,"
                                         + "\"completion_tokens\":24,\"total_tokens\":255}}\n\n");
        }
        events[count - 1] = event("data: [DONE]\n\n");
    }

    @Benchmark
    public long relay() throws TranslationException {
        UsageScanner usage = new UsageScanner();
        UsageChunkFilter filter = new UsageChunkFilter(usage);
        for (ByteBuffer e : events) {
            filter.translateStream(e.duplicate(), sink);
        }
        filter.endStream(sink);
        return usage.totalTokens();
    }

    private static ByteBuffer event(String text) {
        return ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
    }
}
