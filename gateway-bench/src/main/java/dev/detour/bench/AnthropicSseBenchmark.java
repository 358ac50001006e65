package dev.detour.bench;

import dev.detour.config.ApiKeyConfig;
import dev.detour.filter.RequestContext;
import dev.detour.provider.ByteSink;
import dev.detour.provider.ResponseTranslator;
import dev.detour.provider.UpstreamRequest;
import dev.detour.provider.anthropic.AnthropicAdapter;
import dev.detour.routing.RouteTable;
import dev.detour.routing.Target;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Translating an Anthropic Messages stream into OpenAI {@code chat.completion.chunk} events: a
 * 20-event answer (message_start, a text block of 16 deltas, message_delta with usage, message_stop)
 * fed one upstream event per call, as the server feeds it chunk by chunk.
 *
 * <p>{@link #prepare} alone is the per-request setup (the OpenAI request rewritten as a Messages request,
 * and the translator); {@link #stream} is that plus the whole stream, so the stream's own cost is their
 * difference, and per event a twentieth of it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AnthropicSseBenchmark {

    private static final String CONFIG = """
            providers:
              claude:
                type: anthropic
                keys:
                  - id: bench
                    value: sk-ant-bench-0000000000000000
            routes:
              - model: claude
                targets:
                  - provider: claude
                    model: claude-sonnet-4-5
            """;

    private RequestContext ctx;
    private Target target;
    private ApiKeyConfig key;
    private ByteBuffer[] events;
    private final CountingSink sink = new CountingSink();

    @Setup
    public void setUp() {
        RouteTable routes = RouteTable.of(Fixtures.config(CONFIG), 1_700_000_000L);
        ctx = Fixtures.context(routes, Fixtures.chatBody("claude", true, 1024));
        target = ctx.route().targets().get(0);
        key = target.keys().next();
        events = anthropicStream();
    }

    @Benchmark
    public Object prepare() throws Exception {
        return AnthropicAdapter.INSTANCE.prepare(ctx, target, key);
    }

    @Benchmark
    public long stream() throws Exception {
        UpstreamRequest request = AnthropicAdapter.INSTANCE.prepare(ctx, target, key);
        ResponseTranslator translator = request.translator();
        sink.bytes = 0;
        for (ByteBuffer event : events) {
            translator.translateStream(event.duplicate(), sink);
        }
        translator.endStream(sink);
        return sink.bytes;
    }

    private static ByteBuffer[] anthropicStream() {
        String[] words = {"Standard ", "parcels ", "usually ", "leave ", "the ", "warehouse ", "within ", "two ",
                          "working ", "days, ", "so ", "yours ", "is ", "on ", "time. ", "Shall I switch it?"};
        ByteBuffer[] out = new ByteBuffer[words.length + 6];
        int i = 0;
        out[i++] = event("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\","
                + "\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\","
                + "\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":212,\"output_tokens\":1}}}");
        out[i++] = event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
                + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
        for (String w : words) {
            out[i++] = event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
                    + "\"delta\":{\"type\":\"text_delta\",\"text\":\"" + w + "\"}}");
        }
        out[i++] = event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}");
        out[i++] = event("ping", "{\"type\":\"ping\"}");
        out[i++] = event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
                + "\"stop_sequence\":null},\"usage\":{\"output_tokens\":19}}");
        out[i++] = event("message_stop", "{\"type\":\"message_stop\"}");
        return out;
    }

    private static ByteBuffer event(String name, String json) {
        return ByteBuffer.wrap(("event: " + name + "\ndata: " + json + "\n\n").getBytes(StandardCharsets.UTF_8))
                .asReadOnlyBuffer();
    }

    /** Counts the translated bytes, so that the work cannot be optimised away. */
    private static final class CountingSink implements ByteSink {
        long bytes;

        @Override
        public void write(byte[] b, int offset, int len) {
            bytes += len;
        }
    }
}
