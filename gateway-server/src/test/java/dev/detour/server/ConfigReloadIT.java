package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.server.reload.ReloadResult;
import dev.detour.server.testing.TestGateway;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reloading the config file of a running gateway: what a reload applies, what it refuses and reports, and what
 * it keeps (key states, an operator's disable, requests in flight).
 */
class ConfigReloadIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String K1 = "sk-reload-it-first-secret-0000000001";
    private static final String K2 = "sk-reload-it-second-secret-000000002";

    @TempDir
    Path dir;

    private TestGateway gateway;

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    private static String config(String k1, String extraRoutes) {
        return """
                server:
                  watch-config: false
                providers:
                  mock:
                    type: mock
                    pool:
                      strategy: ordered
                    keys:
                      - id: k1
                        value: %s
                      - id: k2
                        value: %s
                    mock:
                      failures:
                        - key: k1
                          kind: rate-limit
                          retry-after: 60s
                          times: 1
                  slow:
                    type: mock
                    mock:
                      latency: 1500ms
                routes:
                  - model: chat
                    targets:
                      - provider: mock
                %s""".formatted(k1, K2, extraRoutes);
    }

    private Path write(String yaml) throws Exception {
        Path file = dir.resolve("gateway.yaml");
        Path tmp = dir.resolve("gateway.yaml.tmp");
        Files.writeString(tmp, yaml);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    @Test
    void appliesANewRouteAndReportsTheVersion() throws Exception {
        gateway = TestGateway.start(write(config(K1, "")));
        assertEquals(404, chat("extra").statusCode());
        String yaml = config(K1, """
                  - model: extra
                    targets:
                      - provider: mock
                """);
        write(yaml);

        HttpResponse<String> r = post("/admin/reload");

        assertEquals(200, r.statusCode(), r.body());
        JsonNode answer = JSON.readTree(r.body());
        assertEquals("applied", answer.get("outcome").asText());
        assertEquals(2, answer.at("/version/number").asLong());
        assertEquals(sha256(yaml), answer.at("/version/sha256").asText());
        assertEquals(200, chat("extra").statusCode());
        assertTrue(gateway.get("/v1/models").body().contains("\"extra\""));
        JsonNode config = JSON.readTree(gateway.get("/admin/config").body());
        assertEquals(2, config.at("/version/number").asLong());
        assertEquals("admin", config.at("/reloads/last_attempt/trigger").asText());
        assertEquals(1, gateway.server().reloads().successes());
    }

    @Test
    void refusesAnInvalidFileWithFileLineAndFieldAndKeepsServing() throws Exception {
        Path file = write(config(K1, ""));
        gateway = TestGateway.start(file);
        write(config(K1, "").replace("    pool:\n", "    pool:\n      stratgy: ordered\n"));

        HttpResponse<String> r = post("/admin/reload");

        assertEquals(422, r.statusCode(), r.body());
        JsonNode answer = JSON.readTree(r.body());
        assertEquals("invalid_config", answer.at("/error/code").asText());
        assertEquals("invalid_request_error", answer.at("/error/type").asText());
        String problem = answer.at("/problems/0").asText();
        assertTrue(problem.startsWith(file + ":7:7 providers.mock.pool.stratgy: unknown field"), problem);
        assertEquals(1, answer.at("/version/number").asLong(), "the running version is named");
        assertEquals(200, chat("chat").statusCode(), "the old config keeps serving");
        JsonNode config = JSON.readTree(gateway.get("/admin/config").body());
        assertEquals(1, config.at("/version/number").asLong());
        assertEquals(problem, config.at("/reloads/last_error/problems/0").asText());
        assertEquals("refused", config.at("/reloads/last_attempt/outcome").asText());
        assertEquals(1, gateway.server().reloads().failures());
        assertTrue(gateway.server().reloads().lastError().orElseThrow().contains("stratgy"));
    }

    @Test
    void unchangedFileIsNotReloaded() throws Exception {
        gateway = TestGateway.start(write(config(K1, "")));

        HttpResponse<String> r = post("/admin/reload");

        assertEquals(200, r.statusCode(), r.body());
        assertEquals("unchanged", JSON.readTree(r.body()).get("outcome").asText());
        assertEquals(1, JSON.readTree(r.body()).at("/version/number").asLong());
        assertEquals(0, gateway.server().reloads().successes());
    }

    @Test
    void restartOnlyChangeIsReportedWhileTheRestIsApplied() throws Exception {
        gateway = TestGateway.start(write(config(K1, "")));
        write(config(K1, """
                  - model: extra
                    targets:
                      - provider: mock
                """).replace("  watch-config: false\n", "  watch-config: false\n  io-threads: 3\n"));

        HttpResponse<String> r = post("/admin/reload");

        assertEquals(200, r.statusCode(), r.body());
        JsonNode restart = JSON.readTree(r.body()).get("restart_needed");
        assertEquals(1, restart.size(), r.body());
        assertEquals("server.io-threads", restart.at("/0/field").asText());
        assertEquals("0", restart.at("/0/running").asText());
        assertEquals("3", restart.at("/0/configured").asText());
        assertEquals(200, chat("extra").statusCode(), "everything else applies");
        JsonNode config = JSON.readTree(gateway.get("/admin/config").body());
        assertEquals("server.io-threads", config.at("/pending_restart/0/field").asText());
    }

    @Test
    void requestInFlightFinishesOnTheVersionItStartedWith() throws Exception {
        gateway = TestGateway.start(write(config(K1, """
                  - model: slow
                    targets:
                      - provider: slow
                """)));
        CompletableFuture<HttpResponse<String>> inFlight = gateway.http().sendAsync(
                HttpRequest.newBuilder(gateway.uri("/v1/chat/completions")).timeout(Duration.ofSeconds(20))
                           .header("content-type", "application/json")
                           .POST(HttpRequest.BodyPublishers.ofString(body("slow"))).build(),
                HttpResponse.BodyHandlers.ofString());
        // Or done already, on a machine so slow that the 1.5 s went by unseen: the assertions below still hold.
        waitUntil(() -> gateway.server().inFlight() > 0 || inFlight.isDone(), "the slow request is in flight");
        write(config(K1, ""));

        HttpResponse<String> reload = post("/admin/reload");

        assertEquals(200, reload.statusCode(), reload.body());
        assertEquals(404, chat("slow").statusCode(), "new requests see the new version");
        HttpResponse<String> finished = inFlight.get(10, TimeUnit.SECONDS);
        assertEquals(200, finished.statusCode(), finished.body());
        assertEquals("slow", finished.headers().firstValue("x-detour-provider").orElseThrow());
    }

    @Test
    void keyStatesAndAnOperatorsDisableSurviveAReload() throws Exception {
        gateway = TestGateway.start(write(config(K1, "")));
        assertEquals("k2", chat("chat").headers().firstValue("x-detour-key-id").orElseThrow(),
                     "k1 answers 429 once and cools for 60 s");
        assertEquals(200, post("/admin/keys/mock/k2/disable").statusCode());
        write(config(K1, """
                  - model: extra
                    targets:
                      - provider: mock
                """));

        assertEquals(200, post("/admin/reload").statusCode());

        assertEquals("cooling", key("k1").get("state").asText());
        assertEquals("disabled", key("k2").get("state").asText());
        assertEquals("operator", key("k2").get("disabled_by").asText());
        HttpResponse<String> none = chat("chat");
        assertEquals(429, none.statusCode(), "k1 cools, k2 is pulled");
        assertEquals("all_keys_exhausted", JSON.readTree(none.body()).at("/error/code").asText());
    }

    @Test
    void aNewSecretStartsTheKeyAfresh() throws Exception {
        gateway = TestGateway.start(write(config(K1, "")));
        chat("chat");
        assertEquals("cooling", key("k1").get("state").asText());
        write(config("sk-reload-it-rotated-secret-00000009", "")
                      .replace("          times: 1\n", "          times: 1\n        - key: k2\n          kind: server-error\n"));

        assertEquals(200, post("/admin/reload").statusCode());

        assertEquals("available", key("k1").get("state").asText());
        assertEquals("...0009", key("k1").get("key").asText());
    }

    @Test
    void watcherReloadsWhenAnEditorReplacesTheFileAndIgnoresATouch() throws Exception {
        String watched = config(K1, "").replace("  watch-config: false\n", "  watch-config: true\n");
        Path file = write(watched);
        gateway = TestGateway.start(file);
        String next = watched + """
                  - model: extra
                    targets:
                      - provider: mock
                """;

        write(next);

        waitUntil(() -> gateway.server().active().version().number() == 2, "the watcher applies the new file");
        assertEquals(200, chat("extra").statusCode());
        assertEquals("file", gateway.server().reloads().lastAttempt().orElseThrow().trigger());
        Files.writeString(file, next, StandardCharsets.UTF_8);
        waitUntil(() -> gateway.server().reloads().lastAttempt().orElseThrow().outcome()
                        == ReloadResult.Outcome.UNCHANGED, "the watcher sees the same text");
        assertEquals(2, gateway.server().active().version().number());
    }

    private JsonNode key(String id) throws Exception {
        for (JsonNode pool : JSON.readTree(gateway.get("/admin/pools").body()).get("pools")) {
            for (JsonNode k : pool.get("keys")) {
                if (pool.get("provider").asText().equals("mock") && k.get("id").asText().equals(id)) {
                    return k;
                }
            }
        }
        throw new AssertionError("no key " + id);
    }

    private HttpResponse<String> chat(String model) throws Exception {
        return gateway.postJson("/v1/chat/completions", body(model));
    }

    private static String body(String model) {
        return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    }

    private HttpResponse<String> post(String path) throws Exception {
        return gateway.http().send(HttpRequest.newBuilder(gateway.uri(path)).timeout(Duration.ofSeconds(20))
                                              .POST(HttpRequest.BodyPublishers.noBody()).build(),
                                   HttpResponse.BodyHandlers.ofString());
    }

    private static void waitUntil(java.util.function.BooleanSupplier done, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }

    private static String sha256(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                                                     .digest(text.getBytes(StandardCharsets.UTF_8)));
    }
}
