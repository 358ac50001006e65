package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.server.testing.TestGateway;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks a real scrape with the real {@code promtool check metrics} (Debian's {@code prometheus} package): the
 * exposition must parse and pass promtool's lint (names, suffixes, help texts, units), after traffic has filled
 * in the per-request meters, the key and breaker states and the rate-limit counters. Also parses every query of
 * {@code docs/grafana-dashboard.json} with {@code promtool check rules}.
 *
 * <p>Without promtool the test fails and says how to install it: a check that silently passes would hide
 * malformed output.
 */
class PromtoolIT {

    private static TestGateway gateway;

    @BeforeAll
    static void start() throws Exception {
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
        System.gc(); // so that the GC meters, registered at a collection, are likely to be checked too
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

    @Test
    void dashboardQueriesAreValidPromQL() throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(Files.readString(Path.of("../docs/grafana-dashboard.json")));
        StringBuilder rules = new StringBuilder("groups:\n  - name: grafana-dashboard\n    rules:\n");
        int n = 0;
        for (JsonNode panel : dashboard.get("panels")) {
            for (JsonNode target : panel.path("targets")) {
                // Grafana's variables, as Grafana would substitute them.
                String expr = target.get("expr").asText().replace("$__rate_interval", "1m")
                        .replace("$job", ".*").replace("$route", ".*");
                rules.append("      - record: detour:dashboard_query_").append(++n).append('\n')
                     .append("        expr: ").append(new ObjectMapper().writeValueAsString(expr)).append('\n');
            }
        }
        Path file = Files.createTempFile("dashboard-rules", ".yml");
        Files.writeString(file, rules);

        Result result;
        try {
            result = promtool(List.of("check", "rules", file.toString()), null);
        } finally {
            Files.delete(file);
        }

        assertEquals(0, result.exitCode(), "promtool check rules failed on the dashboard's queries:\n"
                                           + result.output() + "\n" + rules);
        assertTrue(n > 30, "queries checked: " + n);
    }

    /** Runs {@code promtool check metrics} with {@code exposition} on its standard input. */
    static Result promtoolCheckMetrics(String exposition) throws IOException, InterruptedException {
        return promtool(List.of("check", "metrics"), exposition);
    }

    /** Runs promtool with {@code args}, writing {@code stdin} (or nothing) to its standard input. */
    private static Result promtool(List<String> args, String stdin) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("promtool");
        command.addAll(args);
        Process p;
        Path output = Files.createTempFile("promtool", ".out");
        try {
            p = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
        } catch (IOException e) {
            fail("promtool is not installed, so Detour's metrics cannot be checked. Install it with "
                 + "'apt-get install -y --no-install-recommends prometheus' (Debian/Ubuntu; .ci/run does this), "
                 + "or put Prometheus's promtool on the PATH. Cause: " + e.getMessage());
            throw e;
        }
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("promtool " + String.join(" ", args) + " did not finish within 30 s");
        }
        String text = Files.readString(output);
        Files.delete(output);
        return new Result(p.exitValue(), text);
    }

    /** What promtool said. */
    record Result(int exitCode, String output) {
    }
}
