package dev.detour.bench;

import dev.detour.api.UsageScanner;
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
 * What reading an answer's usage costs a request: {@link UsageScanner} over a 681-byte {@code chat.completion}
 * (the {@code scripts/bench} payload, with {@code prompt_tokens_details}), as a heap array (a translated or
 * mock answer), a direct buffer (a relayed answer's Netty buffer) and a ten-chunk stream, against a translator
 * reporting the figures it parsed anyway ({@code record}). Each invocation makes a new scanner, as each request
 * does.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class UsageScannerBenchmark {

    private static final String ANSWER = "{\"id\":\"chatcmpl-BnchK7x2q9sLwQ4mR8vTzY1pE3aJd\",\"object\":\"chat.completion\","
            + "\"created\":1751550000,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"message\":"
            + "{\"role\":\"assistant\",\"content\":\"Your parcel leaves the warehouse soon. Switch order "
            + "BK-2024-118734 to express (9.90 EUR)?\",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,"
            + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":231,\"completion_tokens\":24,"
            + "\"total_tokens\":255,\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
            + "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
            + "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}},\"service_tier\":\"default\","
            + "\"system_fingerprint\":\"fp_34a54ae93c\"}";
    private static final String CHUNK = "data: {\"id\":\"chatcmpl-BnchK7x2q9sLwQ4mR8vTzY1pE3aJd\",\"object\":"
            + "\"chat.completion.chunk\",\"created\":1751550000,\"model\":\"gpt-4o-mini-2024-07-18\","
            + "\"system_fingerprint\":\"fp_34a54ae93c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
            + "\" parcel leaves\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n";

    private byte[] answer;
    private ByteBuffer direct;
    private byte[][] stream;

    @Setup
    public void setUp() {
        answer = ANSWER.getBytes(StandardCharsets.UTF_8);
        direct = ByteBuffer.allocateDirect(answer.length);
        direct.put(answer).flip();
        stream = new byte[11][];
        for (int i = 0; i < 10; i++) {
            stream[i] = CHUNK.getBytes(StandardCharsets.UTF_8);
        }
        stream[10] = ("data: {\"id\":\"chatcmpl-BnchK7x2q9sLwQ4mR8vTzY1pE3aJd\",\"choices\":[],\"usage\":"
                      + "{\"prompt_tokens\":231,\"completion_tokens\":24,\"total_tokens\":255}}\n\ndata: [DONE]\n\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** A JSON answer in a heap array, as {@code InboundRequestHandler} scans a full response. */
    @Benchmark
    public long jsonArray() {
        UsageScanner scanner = new UsageScanner();
        scanner.scan(answer, 0, answer.length);
        return scanner.totalTokens() + scanner.cachedTokens();
    }

    /** The same answer in a direct buffer, as a relayed body arrives from the upstream's socket. */
    @Benchmark
    public long jsonDirect() {
        UsageScanner scanner = new UsageScanner();
        scanner.scan(direct);
        return scanner.totalTokens();
    }

    /** A stream of ten content chunks and a usage chunk (about 2.8 KB), chunk by chunk. */
    @Benchmark
    public long stream() {
        UsageScanner scanner = new UsageScanner();
        for (byte[] chunk : stream) {
            scanner.scan(chunk, 0, chunk.length);
        }
        return scanner.totalTokens();
    }

    /** A translator reporting the figures it parsed from the provider's answer anyway. */
    @Benchmark
    public long record() {
        UsageScanner scanner = new UsageScanner();
        scanner.record(231, 24, 255, 0);
        return scanner.totalTokens();
    }
}
