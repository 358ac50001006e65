package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.server.testing.Scrape;
import dev.detour.server.testing.TestGateway;
import io.netty.util.ResourceLeakDetector;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Label cardinality stays bounded by the configuration, not by traffic: 10,000 requests from 10,000 distinct end
 * users (in {@code x-detour-user} and in the body's {@code user}), through a user-scoped rate limit and user
 * affinity, add no series, and no user id appears in the scrape.
 */
class MetricsCardinalityIT {

    private static final int USERS = 10_000;
    private static final int THREADS = 4;
    private static final int BATCH = 16;

    private static TestGateway gateway;

    @BeforeAll
    static void start() {
        gateway = TestGateway.start("""
                logging:
                  access-log: false
                providers:
                  mock:
                    type: mock
                    keys: [{id: k1, value: mock-k1}, {id: k2, value: mock-k2}]
                routes:
                  - model: chat
                    affinity: user
                    targets: [{provider: mock, model: mock-chat}]
                limits:
                  - name: per-user
                    scope: user
                    requests: {capacity: 100, per: 1m}
                """);
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void seriesDoNotGrowWithDistinctEndUsers() throws Exception {
        sendAsUsers(0, 100);
        gateway.awaitIdle();
        Scrape before = Scrape.parse(gateway.get("/metrics").body());

        // The leak detector at paranoid quadruples the cost of a request; the first 100 requests ran under it,
        // and this test is about labels, so the other 9,900 run without it.
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        try {
            sendAsUsers(100, USERS);
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
        gateway.awaitIdle();
        Scrape after = Scrape.parse(gateway.get("/metrics").body());

        assertEquals((double) USERS, after.sum("detour_requests_total", "status_class", "2xx"),
                     "every request was served and counted");
        assertEquals(detourSeries(before), detourSeries(after), "Detour's series are the same after 9,900 more users");
        // JVM meters may add a series or two (a new GC cause); nothing may grow with users.
        assertTrue(after.samples().size() <= before.samples().size() + 20,
                   before.samples().size() + " series before, " + after.samples().size() + " after");
        assertTrue(after.samples().size() < 1000, "a small bound: " + after.samples().size());
        assertFalse(after.text().contains("user-"), "no end-user id in the scrape");
    }

    private static List<String> detourSeries(Scrape scrape) {
        List<String> series = new ArrayList<>();
        for (Scrape.Sample s : scrape.samples()) {
            if (s.name().startsWith("detour_")) {
                series.add(s.name() + s.labels());
            }
        }
        return series;
    }

    /**
     * Sends one chat request for each user number in [{@code from}, {@code to}) over a few keep-alive connections,
     * {@value #BATCH} pipelined requests at a time (the server answers up to 16 in order): the JDK client's own
     * cost per request would dominate this test's time otherwise.
     */
    private static void sendAsUsers(int from, int to) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int first = from + t;
                done.add(pool.submit(() -> sendOnOneConnection(first, to)));
            }
            for (Future<Integer> f : done) {
                assertEquals(0, f.get(120, TimeUnit.SECONDS), "requests not answered 200");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Sends users {@code first}, {@code first + THREADS}, ... below {@code to}; returns how many were not 200. */
    private static int sendOnOneConnection(int first, int to) throws IOException {
        int failures = 0;
        try (Socket socket = new Socket("127.0.0.1", gateway.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
            InputStream in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
            int u = first;
            while (u < to) {
                int sent = 0;
                for (; sent < BATCH && u < to; sent++, u += THREADS) {
                    out.write(request("user-" + u));
                }
                out.flush();
                for (int i = 0; i < sent; i++) {
                    failures += readResponse(in) == 200 ? 0 : 1;
                }
            }
        }
        return failures;
    }

    private static byte[] request(String user) {
        String body = "{\"model\":\"chat\",\"user\":\"" + user
                      + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        return ("POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
                + "x-detour-user: " + user + "\r\ncontent-length: " + body.length() + "\r\n\r\n" + body)
                .getBytes(StandardCharsets.US_ASCII);
    }

    /** Reads one response with a content-length body and returns its status. */
    private static int readResponse(InputStream in) throws IOException {
        String status = line(in);
        int length = -1;
        for (String header = line(in); !header.isEmpty(); header = line(in)) {
            if (header.regionMatches(true, 0, "content-length:", 0, 15)) {
                length = Integer.parseInt(header.substring(15).trim());
            }
        }
        if (length < 0) {
            throw new IOException("response without content-length: " + status);
        }
        in.skipNBytes(length);
        return Integer.parseInt(status.substring(9, 12));
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new EOFException("connection closed mid-response");
            }
            if (c != '\r') {
                sb.append((char) c);
            }
        }
        return sb.toString();
    }
}
