package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.server.testing.RawUpstream;
import dev.detour.server.testing.TestGateway;
import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Hundreds of parallel requests while the upstream's keys flip between 429 and 200: every client gets
 * a 200 or a well-formed 429, nothing hangs, and a key that starts failing only meets the requests
 * that were already on their way to it (the bound stated in {@code KeyPool}'s Javadoc).
 *
 * <p>During the burst the upstream flips keys by the number of requests it has received, not by
 * wall-clock time, so the run is the same however fast the machine is:
 * <ul>
 *   <li>k1 answers 429 ({@code retry-after: 60}) from upstream request {@value #K1_FAILS_AT} on;</li>
 *   <li>k2 answers 429 ({@code retry-after: 1}) from request {@value #K2_FAILS_AT} on;</li>
 *   <li>k3 and k4 answer 429 ({@code retry-after: 30}) from request {@value #REST_FAIL_AT} on, after
 *       which nothing can serve: the rest of the burst gets 429s.</li>
 * </ul>
 * Then k2 answers 200 again, and once its cooldown is over a tail of requests is served by k2 alone.
 */
class KeyRotationConcurrencyIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BODY = "{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    private static final String OK = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"
            + "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
            + "\"content\":\"ok\"},\"finish_reason\":\"stop\"}]}";
    private static final String LIMITED = "{\"error\":{\"message\":\"Rate limit reached for gpt-4o-mini on requests "
            + "per min (RPM).\",\"type\":\"requests\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}";

    private static final int REQUESTS = 300;
    private static final int CONCURRENCY = 32;
    private static final int TAIL_REQUESTS = 40;
    private static final int K1_FAILS_AT = 60;
    private static final int K2_FAILS_AT = 120;
    private static final int REST_FAIL_AT = 200;
    private static final long UPSTREAM_LATENCY_MILLIS = 10;

    @Test
    void everyRequestGetsA200OrAWellFormed429AndAFailingKeyMeetsOnlyTheRequestsInFlightOnIt() throws Exception {
        Upstream script = new Upstream();
        try (RawUpstream upstream = RawUpstream.start(script);
             TestGateway gateway = TestGateway.start(config(upstream.port()))) {

            List<Answer> answers = assertTimeoutPreemptively(Duration.ofSeconds(40),
                    () -> run(gateway, REQUESTS), "the burst did not finish: something hangs");
            // k2 recovers; once its cooldown (from its last 429) is over, it is the only key that can serve.
            script.key("k2").failing = false;
            awaitAvailable(gateway, "k2", Duration.ofSeconds(10));
            int k1Before = script.key("k1").arrivals.size();
            List<Answer> tail = assertTimeoutPreemptively(Duration.ofSeconds(20),
                    () -> run(gateway, TAIL_REQUESTS), "the tail did not finish: something hangs");

            assertEquals(REQUESTS, answers.size());
            int ok = 0;
            int limited = 0;
            for (Answer a : answers) {
                if (a.status == 200) {
                    ok++;
                } else {
                    assertWellFormed429(a);
                    limited++;
                }
            }
            assertTrue(ok > 0 && limited > 0, ok + " answers 200 and " + limited + " answers 429: the run should "
                                               + "have both, or it did not exercise exhaustion");
            KeyLog k1 = script.key("k1");
            long first429 = k1.first429.get();
            assertTrue(first429 != 0, "k1 never answered 429");
            long late = k1.arrivals.stream().filter(t -> t - first429 > 0).count();
            assertTrue(late <= CONCURRENCY, late + " requests reached k1 after its first 429; at most the "
                                            + CONCURRENCY + " in flight may");
            assertEquals(k1Before, k1.arrivals.size(), "k1 is cooling for 60 s: no later request may reach it");
            for (Answer a : tail) {
                assertEquals(200, a.status, a.body);
                assertEquals("k2", a.keyId, "k2 is the only key whose cooldown ended");
            }
        }
    }

    private static void assertWellFormed429(Answer a) throws IOException {
        assertEquals(429, a.status, a.body);
        assertTrue(a.retryAfter != null && a.retryAfter.matches("[1-9][0-9]*"), "Retry-After: " + a.retryAfter);
        JsonNode error = JSON.readTree(a.body).get("error");
        assertTrue(error != null && error.isObject(), a.body);
        for (String field : List.of("message", "type", "param", "code")) {
            assertTrue(error.has(field), "OpenAI's error envelope has '" + field + "': " + a.body);
        }
        assertEquals("rate_limit_error", error.get("type").asText(), a.body);
        assertEquals("all_keys_exhausted", error.get("code").asText(), a.body);
    }

    /** Sends {@code count} requests from {@link #CONCURRENCY} threads and returns every answer. */
    private static List<Answer> run(TestGateway gateway, int count) throws Exception {
        Queue<Answer> answers = new ConcurrentLinkedQueue<>();
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(CONCURRENCY);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int i = 0; i < CONCURRENCY; i++) {
                workers.add(pool.submit(() -> {
                    while (next.getAndIncrement() < count) {
                        HttpRequest request = HttpRequest.newBuilder(gateway.uri("/v1/chat/completions"))
                                .timeout(Duration.ofSeconds(10))
                                .header("content-type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(BODY))
                                .build();
                        HttpResponse<String> r = gateway.http().send(request, HttpResponse.BodyHandlers.ofString());
                        answers.add(new Answer(r.statusCode(), r.headers().firstValue("retry-after").orElse(null),
                                               r.headers().firstValue("x-detour-key-id").orElse(null), r.body()));
                    }
                    return null;
                }));
            }
            for (Future<?> w : workers) {
                w.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        return new ArrayList<>(answers);
    }

    private static String config(int port) {
        return """
                upstream:
                  timeouts: {connect: 2s, first-byte: 5s, idle: 5s, total: 20s}
                providers:
                  up:
                    type: openai
                    base-url: http://127.0.0.1:%d/v1
                    keys:
                      - {id: k1, value: sk-rotation-key-1}
                      - {id: k2, value: sk-rotation-key-2}
                      - {id: k3, value: sk-rotation-key-3}
                      - {id: k4, value: sk-rotation-key-4}
                routes:
                  - model: chat
                    max-wait: 0s
                    targets: [{provider: up, model: gpt-4o-mini}]
                """.formatted(port);
    }

    /** Polls {@code /admin/pools} until key {@code id} is usable again; fails after {@code within}. */
    private static void awaitAvailable(TestGateway gateway, String id, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            JsonNode pools = JSON.readTree(gateway.get("/admin/pools").body());
            for (JsonNode k : pools.at("/pools/0/keys")) {
                if (id.equals(k.get("id").asText()) && k.get("available_in_ms").asLong(-1) == 0) {
                    return;
                }
            }
            assertTrue(System.nanoTime() - deadline < 0, id + " still unavailable after " + within + ": " + pools);
            Thread.sleep(50);
        }
    }

    private record Answer(int status, String retryAfter, String keyId, String body) {
    }

    /** What one key saw: when requests arrived, and when it answered its first 429. */
    private static final class KeyLog {
        final Queue<Long> arrivals = new ConcurrentLinkedQueue<>();
        final AtomicLong first429 = new AtomicLong();
        volatile boolean failing;
        volatile String retryAfter = "1";
    }

    /** The upstream: one thread per connection, each answering one request and closing. */
    private static final class Upstream implements RawUpstream.Script {
        private final Map<String, KeyLog> keys = Map.of("k1", new KeyLog(), "k2", new KeyLog(), "k3", new KeyLog(),
                                                        "k4", new KeyLog());
        private final AtomicInteger received = new AtomicInteger();

        KeyLog key(String id) {
            return keys.get(id);
        }

        @Override
        public void answer(String head, OutputStream out, RawUpstream upstream) throws Exception {
            flip(received.incrementAndGet());
            KeyLog key = keys.get(keyId(head));
            if (key == null) {
                respond(out, 401, "Unauthorized", "", "{\"error\":{\"message\":\"unknown key\","
                        + "\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}");
                return;
            }
            key.arrivals.add(System.nanoTime());
            Thread.sleep(UPSTREAM_LATENCY_MILLIS);
            if (!key.failing) {
                respond(out, 200, "OK", "", OK);
                return;
            }
            respond(out, 429, "Too Many Requests", "retry-after: " + key.retryAfter + "\r\n", LIMITED);
            key.first429.compareAndSet(0, System.nanoTime());
        }

        private void flip(int n) {
            if (n == K1_FAILS_AT) {
                startFailing(keys.get("k1"), "60");
            } else if (n == K2_FAILS_AT) {
                startFailing(keys.get("k2"), "1");
            } else if (n == REST_FAIL_AT) {
                startFailing(keys.get("k3"), "30");
                startFailing(keys.get("k4"), "30");
            }
        }

        private static void startFailing(KeyLog key, String retryAfter) {
            key.retryAfter = retryAfter;
            key.failing = true;
        }

        private static String keyId(String head) {
            for (String line : head.split("\r\n")) {
                if (line.toLowerCase(Locale.ROOT).startsWith("authorization:")) {
                    String value = line.substring("authorization:".length()).trim();
                    return "k" + value.charAt(value.length() - 1);
                }
            }
            return "";
        }

        private static void respond(OutputStream out, int status, String reason, String headers, String body)
                throws IOException {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            RawUpstream.write(out, "HTTP/1.1 " + status + " " + reason + "\r\n"
                                   + "content-type: application/json\r\n"
                                   + "content-length: " + bytes.length + "\r\n"
                                   + "connection: close\r\n"
                                   + headers + "\r\n" + body);
        }
    }
}
