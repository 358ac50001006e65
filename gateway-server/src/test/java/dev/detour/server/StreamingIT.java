package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.server.testing.Eventually;
import dev.detour.server.testing.RawUpstream;
import dev.detour.server.testing.TestGateway;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Streaming relay: chunks pass as they arrive, a slow client slows the upstream instead of filling
 * the gateway's memory, and a graceful stop lets streams in flight finish.
 */
class StreamingIT {

    private static final String STREAM_BODY =
            "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    private static String config(int port) {
        return """
                upstream:
                  timeouts: {connect: 2s, first-byte: 5s, idle: 10s, total: 60s}
                providers:
                  up:
                    type: openai
                    base-url: http://127.0.0.1:%d/v1
                    keys:
                      - id: k1
                        value: sk-test-1
                routes:
                  - model: m
                    targets:
                      - provider: up
                """.formatted(port);
    }

    @Test
    void relaysEachEventBeforeTheNextIsSent() throws Exception {
        CompletableFuture<Void> firstSeen = new CompletableFuture<>();
        try (RawUpstream upstream = RawUpstream.start((head, out, up) -> {
                 RawUpstream.write(out, "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                                        + "transfer-encoding: chunked\r\n\r\n");
                 RawUpstream.chunk(out, "data: {\"n\":1}\n\n");
                 // The second event is only sent once the client has seen the first through the gateway.
                 firstSeen.get(15, TimeUnit.SECONDS);
                 RawUpstream.chunk(out, "data: {\"n\":2}\n\ndata: [DONE]\n\n");
                 RawUpstream.write(out, "0\r\n\r\n");
             });
             TestGateway gateway = TestGateway.start(config(upstream.port()));
             Socket client = new Socket(InetAddress.getLoopbackAddress(), gateway.port())) {
            client.setSoTimeout(15_000);
            send(client, STREAM_BODY);
            InputStream in = client.getInputStream();

            String untilFirst = readUntil(in, "data: {\"n\":1}\n\n");
            firstSeen.complete(null);
            String rest = readUntil(in, "data: [DONE]\n\n");

            assertTrue(untilFirst.startsWith("HTTP/1.1 200"), untilFirst);
            assertTrue(rest.contains("data: {\"n\":2}"), rest);
        }
    }

    @Test
    void slowClientPausesUpstreamReads() throws Exception {
        long total = 64L * 1024 * 1024;
        AtomicLong written = new AtomicLong();
        byte[] event = ("\"" + "x".repeat(8190) + "\",").getBytes(StandardCharsets.US_ASCII);
        try (RawUpstream upstream = RawUpstream.start((head, out, up) -> {
                 RawUpstream.write(out, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                                        + "content-length: " + total + "\r\n\r\n");
                 long sent = 0;
                 while (sent < total) {
                     int n = (int) Math.min(event.length, total - sent);
                     out.write(event, 0, n);
                     sent += n;
                     written.set(sent);
                 }
                 out.flush();
             });
             TestGateway gateway = TestGateway.start(config(upstream.port()));
             Socket client = new Socket(InetAddress.getLoopbackAddress(), gateway.port())) {
            client.setReceiveBufferSize(64 * 1024);
            client.setSoTimeout(10_000);
            send(client, STREAM_BODY);
            InputStream in = client.getInputStream();
            readUntil(in, "\r\n\r\n");

            Thread.sleep(1500); // the client reads nothing meanwhile
            long whilePaused = written.get();
            long received = drain(in, total);

            assertTrue(whilePaused < total / 2,
                       "upstream wrote " + whilePaused + " of " + total + " bytes while the client read nothing");
            assertEquals(total, received);
        }
    }

    @Test
    void sendsEventStreamChunkedEvenWhenUpstreamGaveLength() throws Exception {
        String events = "data: {\"n\":1}\n\ndata: [DONE]\n\n";
        try (RawUpstream upstream = RawUpstream.start((head, out, up) -> RawUpstream.write(out,
                     "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: " + events.length()
                     + "\r\n\r\n" + events));
             TestGateway gateway = TestGateway.start(config(upstream.port()))) {
            java.net.http.HttpResponse<String> r = gateway.postJson("/v1/chat/completions", STREAM_BODY);

            assertEquals(200, r.statusCode());
            assertEquals(events, r.body());
            assertTrue(r.headers().firstValue("content-length").isEmpty(), r.headers().toString());
        }
    }

    @Test
    void gracefulStopLetsStreamsInFlightFinish() throws Exception {
        TestGateway gateway = TestGateway.start("""
                providers:
                  mock:
                    type: mock
                    mock:
                      tokens-per-second: 8
                routes:
                  - model: m
                    targets:
                      - provider: mock
                """);
        CompletableFuture<HttpResponse<String>> response = CompletableFuture.supplyAsync(() -> {
            try {
                return gateway.postJson("/v1/chat/completions", STREAM_BODY);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        // The stream takes about a second (8 words at 8 a second): the stop comes while it is in flight, unless the
        // machine is so slow that it is over before this sees it.
        Eventually.assertThat(() -> gateway.server().inFlight() > 0 || response.isDone(),
                              () -> "the stream never reached the gateway");

        gateway.server().stop(Duration.ofSeconds(10));

        HttpResponse<String> r = response.get(10, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode());
        assertTrue(r.body().endsWith("data: [DONE]\n\n"), r.body());
        assertTrue(!gateway.server().ready(), "not ready after stop");
    }

    private static void send(Socket client, String body) throws Exception {
        OutputStream out = client.getOutputStream();
        out.write(("POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                   + "content-length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String readUntil(InputStream in, String marker) throws Exception {
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            seen.write(b);
            if (seen.toString(StandardCharsets.UTF_8).endsWith(marker)) {
                break;
            }
        }
        return seen.toString(StandardCharsets.UTF_8);
    }

    private static long drain(InputStream in, long expected) throws Exception {
        byte[] buf = new byte[64 * 1024];
        long n = 0;
        int r;
        while (n < expected && (r = in.read(buf)) >= 0) {
            n += r;
        }
        return n;
    }
}
