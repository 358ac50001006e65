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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link UsageScanner}: reading {@code usage} from every answer as it passes, which usage accounting does for
 * every request. An answer is scanned from a heap array (a full body) or a direct buffer (a relayed chunk).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class UsageScannerBenchmark {

    /** A chat completion of about 680 bytes, or a stream of 40 chunks and a usage chunk (about 8 KB). */
    @Param({"completion", "stream"})
    public String answer;

    private byte[] bytes;
    private ByteBuffer direct;

    @Setup
    public void setUp() {
        String usage = "\"usage\":{\"prompt_tokens\":180,\"completion_tokens\":96,\"total_tokens\":276,"
                       + "\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
                       + "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0}}";
        String head = "\"id\":\"chatcmpl-BnchK7x2q9sLwQ4mR8vTzY1pE3aJd\",\"created\":1751550000,"
                      + "\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_34a54ae93c\",";
        String text;
        if (answer.equals("completion")) {
            text = "{" + head + "\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
                   + "\"assistant\",\"content\":\"Standard parcels usually leave the warehouse within two working "
                   + "days and arrive three to five days later. Your order should reach you by Friday; I have "
                   + "sent the tracking link to your e-mail address.\",\"refusal\":null},\"logprobs\":null,"
                   + "\"finish_reason\":\"stop\"}]," + usage + "}";
        } else {
            StringBuilder sse = new StringBuilder();
            for (int i = 0; i < 40; i++) {
                sse.append("data: {").append(head).append("\"object\":\"chat.completion.chunk\",\"choices\":[{")
                   .append("\"index\":0,\"delta\":{\"content\":\" word").append(i)
                   .append("\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n");
            }
            sse.append("data: {").append(head).append("\"object\":\"chat.completion.chunk\",\"choices\":[],")
               .append(usage).append("}\n\ndata: [DONE]\n\n");
            text = sse.toString();
        }
        bytes = text.getBytes(StandardCharsets.UTF_8);
        direct = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
    }

    @Benchmark
    public long scanArray() {
        UsageScanner scanner = new UsageScanner();
        scanner.scan(bytes, 0, bytes.length);
        return scanner.totalTokens();
    }

    @Benchmark
    public long scanDirectBuffer() {
        UsageScanner scanner = new UsageScanner();
        scanner.scan(direct);
        return scanner.totalTokens();
    }
}
