package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.server.testing.TestGateway;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Eight clients loop requests (six plain, two streaming) through the real server while the config file is
 * swapped 20 times, valid and invalid versions in turn, through the file watcher and through
 * {@code POST /admin/reload}. No request may fail because of a swap; every invalid version is refused with
 * its file and line, and the running version stays.
 */
class ReloadUnderLoadIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern FILE_LINE = Pattern.compile("^.*gateway\\.yaml:\\d+:\\d+[: ].+");
    private static final String[][] KEY_SETS = {{"k1", "k2"}, {"k2", "k3"}, {"k1", "k3"}};
    private static final String PROMPT = "one two three four five six seven eight nine ten eleven twelve thirteen "
                                         + "fourteen fifteen sixteen seventeen eighteen nineteen twenty";

    @TempDir
    Path dir;

    /** Valid version {@code n}: the routes clients use always exist; an alias route and the key list change. */
    private static String valid(int n) {
        StringBuilder keys = new StringBuilder();
        for (String id : KEY_SETS[n % KEY_SETS.length]) {
            keys.append("      - id: ").append(id).append("\n        value: sk-load-it-").append(id)
                .append("-secret-value-00000000\n");
        }
        String alias = n % 2 == 0 ? """
                  - model: extra
                    targets:
                      - provider: fast
                """ : "";
        return """
                # version %d
                server:
                  watch-config: true
                providers:
                  fast:
                    type: mock
                    mock:
                      latency: 5ms
                    keys:
                %s  slow:
                    type: mock
                    mock:
                      tokens-per-second: 80
                routes:
                  - model: chat
                    targets:
                      - provider: fast
                  - model: stream
                    targets:
                      - provider: slow
                %s""".formatted(n, keys, alias);
    }

    /** Invalid version {@code n}: broken YAML or an unknown field, each with a line to report. */
    private static String invalid(int n) {
        return n % 2 == 0
               ? valid(n).replace("routes:\n", "routes: [\n")
               : valid(n).replace("  watch-config: true\n", "  watch-config: true\n  watch-the-config: true\n");
    }

    @Test
    void noRequestFailsWhileTheConfigIsSwappedTwentyTimes() throws Exception {
        Path file = dir.resolve("gateway.yaml");
        replace(file, valid(0));
        Queue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicInteger served = new AtomicInteger();
        AtomicInteger streamed = new AtomicInteger();
        AtomicBoolean running = new AtomicBoolean(true);
        try (TestGateway gateway = TestGateway.start(file)) {
            List<Thread> clients = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                boolean stream = i >= 6;
                Thread t = new Thread(() -> load(gateway, stream, running, failures, stream ? streamed : served),
                                      "load-" + i);
                t.start();
                clients.add(t);
            }
            long version = 1;
            int variant = 0;
            for (int swap = 0; swap < 20; swap++) {
                boolean viaAdmin = swap % 4 >= 2;
                if (swap % 2 == 0) {
                    variant++;
                    version++;
                    swapValid(gateway, file, variant, version, viaAdmin);
                } else {
                    swapInvalid(gateway, file, variant, version, viaAdmin);
                }
                Thread.sleep(100); // let requests run on this version
            }
            running.set(false);
            for (Thread t : clients) {
                t.join(TimeUnit.SECONDS.toMillis(30));
            }

            assertTrue(failures.isEmpty(), failures.size() + " requests failed, e.g. " + failures.peek());
            assertTrue(served.get() >= 100, "the load ran through the swaps: " + served.get() + " requests");
            assertTrue(streamed.get() >= 4, "streams ran through the swaps: " + streamed.get());
            assertEquals(10, gateway.server().reloads().successes());
            assertEquals(11, gateway.server().active().version().number());
            assertTrue(gateway.server().reloads().failures() >= 10, "every invalid version was refused");
            waitUntil(() -> gateway.server().inFlight() == 0, "requests drain");
            assertEquals(1, threadsNamed("detour-config-reload"), "one reload thread, however many reloads");
            assertEquals(1, threadsNamed("detour-config-watcher"), "one watcher, however many reloads");
        }
    }

    private void swapValid(TestGateway gateway, Path file, int variant, long version, boolean viaAdmin)
            throws Exception {
        replace(file, valid(variant));
        if (viaAdmin) {
            HttpResponse<String> r = post(gateway, "/admin/reload");
            assertEquals(200, r.statusCode(), r.body());
            // The watcher may have applied the same text a moment earlier; either way this version runs.
            assertEquals(version, JSON.readTree(r.body()).at("/version/number").asLong(), r.body());
        } else {
            waitUntil(() -> configView(gateway).at("/version/number").asLong() == version,
                      "the watcher applies version " + version);
        }
        boolean hasAlias = gateway.get("/v1/models").body().contains("\"extra\"");
        assertEquals(variant % 2 == 0, hasAlias, "the alias route follows the file");
    }

    private void swapInvalid(TestGateway gateway, Path file, int variant, long version, boolean viaAdmin)
            throws Exception {
        long refusedBefore = gateway.server().reloads().failures();
        // In place, like an editor saving over the file: the debounce waits for the write to settle.
        Files.writeString(file, invalid(variant));
        String problem;
        if (viaAdmin) {
            HttpResponse<String> r = post(gateway, "/admin/reload");
            assertEquals(422, r.statusCode(), r.body());
            JsonNode answer = JSON.readTree(r.body());
            problem = answer.at("/problems/0").asText();
            assertEquals(version, answer.at("/version/number").asLong(), "the running version is unchanged");
        } else {
            waitUntil(() -> gateway.server().reloads().failures() > refusedBefore, "the watcher refuses the file");
            problem = configView(gateway).at("/reloads/last_error/problems/0").asText();
        }
        assertTrue(FILE_LINE.matcher(problem).matches(), "the problem names file and line: " + problem);
        assertEquals(version, configView(gateway).at("/version/number").asLong(), "the old version keeps running");
    }

    private static void load(TestGateway gateway, boolean stream, AtomicBoolean running, Queue<String> failures,
                             AtomicInteger done) {
        String body = "{\"model\":\"" + (stream ? "stream" : "chat") + "\",\"stream\":" + stream
                      + ",\"messages\":[{\"role\":\"user\",\"content\":\"" + PROMPT + "\"}]}";
        HttpRequest request = HttpRequest.newBuilder(gateway.uri("/v1/chat/completions"))
                .timeout(Duration.ofSeconds(20))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        while (running.get()) {
            try {
                HttpResponse<String> r = gateway.http().send(request, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    failures.add(r.statusCode() + " " + r.body());
                } else if (stream && !r.body().contains("data: [DONE]")) {
                    failures.add("stream cut short: " + r.body());
                } else if (!stream && !r.body().contains("\"chat.completion\"")) {
                    failures.add("not a completion: " + r.body());
                } else {
                    done.incrementAndGet();
                }
            } catch (Exception e) {
                failures.add(e.toString());
            }
        }
    }

    private static long threadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix)).count();
    }

    private static JsonNode configView(TestGateway gateway) {
        try {
            return JSON.readTree(gateway.get("/admin/config").body());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static HttpResponse<String> post(TestGateway gateway, String path) throws Exception {
        return gateway.http().send(HttpRequest.newBuilder(gateway.uri(path)).timeout(Duration.ofSeconds(20))
                                              .POST(HttpRequest.BodyPublishers.noBody()).build(),
                                   HttpResponse.BodyHandlers.ofString());
    }

    /** Writes {@code yaml} the way editors and deploy tools replace a file: a new file renamed over the old. */
    private void replace(Path file, String yaml) throws Exception {
        Path tmp = dir.resolve("gateway.yaml.tmp");
        Files.writeString(tmp, yaml);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void waitUntil(BooleanSupplier done, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }
}
