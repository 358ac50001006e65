package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.detour.server.testing.TestGateway;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks a real scrape with the real {@code promtool check metrics} (Debian's {@code prometheus} package): the
 * exposition must parse and pass promtool's lint (names, suffixes, help texts, units), after traffic has filled
 * in the per-request meters, the key and breaker states and the rate-limit counters.
 *
 * <p>Without promtool the test fails and says how to install it: a check that silently passes would hide
 * malformed output.
 */
class PromtoolIT {

    private static TestGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        System.gc(); // so that the GC meters, registered at the first collection, are likely to be checked too
        gateway = TestGateway.start("""
                providers:
                  mock:
                    type: mock
                    keys:
                      - {id: k1, value: mock-k1}
                      - {id: k2, value: mock-k2}
                    mock:
                      failures: [{key: k1, kind: rate-limit, retry-after: 30s, times: 1}]
                  spare:
                    type: mock
                routes:
                  - model: chat
                    targets: [{provider: mock, model: mock-chat}, {provider: spare, model: mock-chat}]
                  - model: embed
                    targets: [{provider: mock, model: mock-embed}]
                limits:
                  - name: global-rpm
                    scope: global
                    requests: {capacity: 4, per: 1m}
                """);
        String chat = "{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        for (int i = 0; i < 3; i++) {
            gateway.postJson("/v1/chat/completions", chat);
        }
        gateway.postJson("/v1/chat/completions", "{\"model\":\"chat\",\"stream\":true,\"messages\":"
                                                  + "[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(429, gateway.postJson("/v1/embeddings", "{\"model\":\"embed\",\"input\":\"x\"}").statusCode(),
                     "the global limit refuses the fifth request");
        gateway.postJson("/v1/chat/completions", "not json");
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void scrapePassesPromtoolCheckMetrics() throws Exception {
        String body = gateway.get("/metrics").body();
        assertTrue(body.contains("detour_requests_total{"), "traffic was counted");

        Result result = promtoolCheckMetrics(body);

        assertEquals(0, result.exitCode(), "promtool check metrics failed:\n" + result.output());
    }

    /** Runs {@code promtool check metrics} with {@code exposition} on its standard input. */
    static Result promtoolCheckMetrics(String exposition) throws IOException, InterruptedException {
        Process p;
        Path output = Files.createTempFile("promtool", ".out");
        try {
            p = new ProcessBuilder("promtool", "check", "metrics")
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
        } catch (IOException e) {
            fail("promtool is not installed, so the scrape cannot be checked. Install it with "
                 + "'apt-get install -y --no-install-recommends prometheus' (Debian/Ubuntu; .ci/run does this), "
                 + "or put Prometheus's promtool on the PATH. Cause: " + e.getMessage());
            throw e;
        }
        try (OutputStream in = p.getOutputStream()) {
            in.write(exposition.getBytes(StandardCharsets.UTF_8));
        }
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("promtool check metrics did not finish within 30 s");
        }
        String text = Files.readString(output);
        Files.delete(output);
        return new Result(p.exitValue(), text);
    }

    /** What promtool said. */
    record Result(int exitCode, String output) {
    }
}
