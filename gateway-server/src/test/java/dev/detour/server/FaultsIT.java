package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.server.testing.Eventually;
import dev.detour.server.testing.RawUpstream;
import dev.detour.server.testing.TestGateway;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Faults on the upstream side and on the client side, each asserting what the client sees.
 */
class FaultsIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAT = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    private static final String CHAT_STREAM =
            "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    private static final String SSE_HEAD = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                                           + "transfer-encoding: chunked\r\n\r\n";
    private static final String EVENT = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
                                        + "\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},"
                                        + "\"finish_reason\":null}]}\n\n";

    private static String config(int upstreamPort, String timeouts) {
        return """
                upstream:
                  timeouts: %s
                providers:
                  up:
                    type: openai
                    base-url: http://127.0.0.1:%d/v1
                    keys:
                      - id: k1
                        value: sk-test-key-1
                routes:
                  - model: m
                    targets:
                      - provider: up
                """.formatted(timeouts, upstreamPort);
    }

    private static String defaultTimeouts() {
        return "{connect: 2s, first-byte: 5s, idle: 5s, total: 10s}";
    }

    @Test
    void answers502WhenUpstreamRefusesConnections() throws Exception {
        // A socket bound but never listening holds the port for the whole test (a port merely found free could be
        // taken by another process meanwhile): connecting to it is refused.
        try (Socket reserved = new Socket()) {
            reserved.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try (TestGateway gateway = TestGateway.start(config(reserved.getLocalPort(), defaultTimeouts()))) {
                HttpResponse<String> r = gateway.postJson("/v1/chat/completions", CHAT);

                assertEquals(502, r.statusCode(), r.body());
                JsonNode error = JSON.readTree(r.body()).get("error");
                assertEquals("upstream_error", error.get("type").asText());
                assertEquals("upstream_unreachable", error.get("code").asText());
                assertTrue(error.get("message").asText().contains("'up'"), r.body());
                assertFalse(r.body().contains("sk-test-key-1"), "no key in errors");
            }
        }
    }

    @Test
    void answers504WhenUpstreamSendsNothingBeforeFirstByteTimeout() throws Exception {
        try (RawUpstream upstream = RawUpstream.start((RawUpstream.Awaiting) (head, out, up) -> { });
             TestGateway gateway = TestGateway.start(config(upstream.port(),
                     "{connect: 1s, first-byte: 300ms, idle: 2s, total: 10s}"))) {
            long start = System.nanoTime();
            HttpResponse<String> r = gateway.postJson("/v1/chat/completions", CHAT);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertEquals(504, r.statusCode(), r.body());
            assertEquals("timeout_error", JSON.readTree(r.body()).at("/error/type").asText());
            assertTrue(millis < 3000, "answered after " + millis + " ms");
            assertTrue(upstream.peerClosed().await(15, TimeUnit.SECONDS), "upstream connection closed");
        }
    }

    @Test
    void answers504WhenAnUpstreamConnectionReusedFromThePoolGoesSilent() throws Exception {
        String answer = "{\"id\":\"c1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\","
                        + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},"
                        + "\"finish_reason\":\"stop\"}]}";
        AtomicInteger served = new AtomicInteger();
        try (RawUpstream upstream = RawUpstream.start((RawUpstream.KeepAlive) (head, out, up) -> {
                 if (served.getAndIncrement() < 3) {
                     RawUpstream.write(out, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                                            + answer.length() + "\r\n\r\n" + answer);
                 } else {
                     Thread.sleep(5000); // the fourth request gets nothing back
                 }
             });
             // 1 s to the first byte: the three answered requests must beat it even on a busy machine.
             TestGateway gateway = TestGateway.start(config(upstream.port(),
                     "{connect: 1s, first-byte: 1s, idle: 2s, total: 10s}"))) {
            for (int i = 0; i < 3; i++) {
                assertEquals(200, gateway.postJson("/v1/chat/completions", CHAT).statusCode());
            }
            long start = System.nanoTime();
            HttpResponse<String> r = gateway.postJson("/v1/chat/completions", CHAT);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertEquals(504, r.statusCode(), r.body());
            assertEquals("timeout_error", JSON.readTree(r.body()).at("/error/type").asText());
            assertTrue(millis < 5_000, "answered after " + millis + " ms, not at the 1 s first-byte timeout (the "
                                       + "upstream is silent for 5 s, the total timeout is 10 s)");
            assertEquals(4, upstream.requests());
            assertEquals(1, upstream.connections(), "all four went over one pooled connection");
        }
    }

    @Test
    void closesAnIdleClientConnectionButNotOneWithALongAnswerInProgress() throws Exception {
        try (RawUpstream upstream = RawUpstream.start((head, out, up) -> {
                 RawUpstream.write(out, SSE_HEAD);
                 for (int i = 0; i < 8; i++) { // 800 ms of answer, past the 300 ms idle timeout
                     RawUpstream.chunk(out, EVENT);
                     Thread.sleep(100);
                 }
                 RawUpstream.chunk(out, "data: [DONE]\n\n");
                 RawUpstream.chunk(out, "");
             });
             TestGateway gateway = TestGateway.start(config(upstream.port(), defaultTimeouts())
                     .replace("upstream:", "server:\n  idle-timeout: 300ms\nupstream:"))) {
            String stream = "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
            // Timed from before the idle connection is opened: the gateway counts its idle time from then on.
            long start = System.nanoTime();
            try (Socket idle = new Socket(InetAddress.getLoopbackAddress(), gateway.port());
                 Socket streaming = new Socket(InetAddress.getLoopbackAddress(), gateway.port())) {
                // At once: until its request arrives, the streaming connection is idle too.
                sendRaw(streaming, "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json"
                                   + "\r\ncontent-length: " + stream.length() + "\r\n\r\n" + stream);
                idle.setSoTimeout(5000);
                streaming.setSoTimeout(5000);

                assertEquals(-1, idle.getInputStream().read(), "the idle connection is closed");
                long idleMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                String answer = readUntil(streaming.getInputStream(), "data: [DONE]");

                assertTrue(idleMillis >= 250 && idleMillis < 3000, "closed after " + idleMillis + " ms");
                assertEquals(8, answer.split("\"content\":\"Hel\"", -1).length - 1, answer);
            }
        }
    }

    @Test
    void closesAPooledUpstreamConnectionLeftUnusedPastThePoolIdleTimeout() throws Exception {
        String answer = "{\"id\":\"c1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\","
                        + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},"
                        + "\"finish_reason\":\"stop\"}]}";
        try (RawUpstream upstream = RawUpstream.start((RawUpstream.KeepAlive) (head, out, up) ->
                     RawUpstream.write(out, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                                            + answer.length() + "\r\n\r\n" + answer));
             TestGateway gateway = TestGateway.start(config(upstream.port(), defaultTimeouts())
                     // 1 s: the second request must find the connection still pooled, even on a busy machine.
                     .replace("upstream:\n", "upstream:\n  pool-idle-timeout: 1s\n"))) {
            assertEquals(200, gateway.postJson("/v1/chat/completions", CHAT).statusCode());
            assertEquals(200, gateway.postJson("/v1/chat/completions", CHAT).statusCode());
            assertEquals(1, upstream.connections(), "back to back, the pooled connection is reused");

            assertTrue(upstream.peerClosed().await(15, TimeUnit.SECONDS), "the unused connection is closed");
            assertEquals(200, gateway.postJson("/v1/chat/completions", CHAT).statusCode());

            assertEquals(2, upstream.connections(), "a new connection after the idle one was closed");
        }
    }

    @Test
    void answers408WhenTheClientSendsTooSlowly() throws Exception {
        String yaml = config(1, defaultTimeouts()).replace("upstream:", "server:\n  request-timeout: 300ms\nupstream:");
        try (TestGateway gateway = TestGateway.start(yaml);
             Socket client = new Socket(InetAddress.getLoopbackAddress(), gateway.port())) {
            client.setSoTimeout(5000);
            // A first request in full, then one whose body never ends, on the same connection.
            sendRaw(client, "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
            long start = System.nanoTime();
            sendRaw(client, "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nx-request-id: slow-1\r\n"
                            + "content-type: application/json\r\ncontent-length: " + CHAT.length() + "\r\n\r\n"
                            + CHAT.substring(0, 10));
            String all = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertTrue(all.startsWith("HTTP/1.1 200"), all);
            int timeout = all.indexOf("HTTP/1.1 408");
            assertTrue(timeout > 0, all);
            String answer = all.substring(timeout);
            assertTrue(answer.contains("\"request_timeout\""), answer);
            assertTrue(answer.toLowerCase(java.util.Locale.ROOT).contains("x-request-id: slow-1"), answer);
            assertTrue(millis >= 250 && millis < 3000, "answered after " + millis + " ms, not at the 300 ms timeout");
        }
    }

    @Test
    void endsStreamWithErrorEventWhenUpstreamGoesSilentPastIdleTimeout() throws Exception {
        try (RawUpstream upstream = RawUpstream.start((RawUpstream.Awaiting) (head, out, up) -> {
                 RawUpstream.write(out, SSE_HEAD);
                 RawUpstream.chunk(out, EVENT);
                 // then silence, with the connection open
             });
             TestGateway gateway = TestGateway.start(config(upstream.port(),
                     "{connect: 1s, first-byte: 5s, idle: 300ms, total: 10s}"))) {
            long start = System.nanoTime();
            HttpResponse<String> r = gateway.postJson("/v1/chat/completions", CHAT_STREAM);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertEquals(200, r.statusCode());
            assertTrue(r.body().startsWith(EVENT), r.body());
            assertTrue(r.body().contains("stopped sending"), r.body());
            assertTrue(millis < 4000, "ended after " + millis + " ms, not at the 300 ms idle timeout");
            assertTrue(upstream.peerClosed().await(15, TimeUnit.SECONDS), "upstream connection closed");
        }
    }

    @Test
    void endsStreamAtTotalTimeoutEvenWhileUpstreamKeepsSending() throws Exception {
        try (RawUpstream upstream = RawUpstream.start((RawUpstream.Awaiting) (head, out, up) -> {
                 RawUpstream.write(out, SSE_HEAD);
                 try {
                     // An upstream that never ends: each event resets the idle timeout, not the total one.
                     for (int i = 0; i < 100; i++) {
                         RawUpstream.chunk(out, EVENT);
                         Thread.sleep(50);
                     }
                 } catch (IOException | InterruptedException e) {
                     // Detour closed the connection: expected.
                 }
             });
             TestGateway gateway = TestGateway.start(config(upstream.port(),
                     "{connect: 1s, first-byte: 5s, idle: 2s, total: 600ms}"))) {
            long start = System.nanoTime();
            HttpResponse<String> r = gateway.postJson("/v1/chat/completions", CHAT_STREAM);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertEquals(200, r.statusCode());
            assertTrue(r.body().startsWith(EVENT), r.body());
            assertTrue(r.body().contains("stopped sending"), r.body());
            assertTrue(millis < 4000, "ended after " + millis + " ms, not at the 600 ms total timeout");
        }
    }

    @Test
    void endsStreamWithErrorEventWhenUpstreamClosesMidStream() throws Exception {
        try (RawUpstream upstream = RawUpstream.start((head, out, up) -> {
                 RawUpstream.write(out, SSE_HEAD);
                 RawUpstream.chunk(out, EVENT);
                 // then the socket closes without the terminating chunk
             });
             TestGateway gateway = TestGateway.start(config(upstream.port(), defaultTimeouts()))) {
            HttpResponse<String> r = gateway.postJson("/v1/chat/completions", CHAT_STREAM);

            assertEquals(200, r.statusCode());
            String body = r.body();
            assertTrue(body.startsWith(EVENT), body);
            String last = body.substring(EVENT.length());
            assertTrue(last.startsWith("data: {\"error\":"), body);
            assertTrue(last.endsWith("\n\n"), body);
            JsonNode error = JSON.readTree(last.substring(6).trim()).get("error");
            assertEquals("stream_interrupted", error.get("code").asText());
        }
    }

    @Test
    void cutsConnectionWhenUpstreamClosesMidJsonBody() throws Exception {
        try (RawUpstream upstream = RawUpstream.start((head, out, up) -> {
                 RawUpstream.write(out, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                                        + "content-length: 500\r\n\r\n{\"id\":\"chatcmpl-1\",");
             });
             TestGateway gateway = TestGateway.start(config(upstream.port(), defaultTimeouts()))) {
            HttpRequest request = HttpRequest.newBuilder(gateway.uri("/v1/chat/completions"))
                    .timeout(Duration.ofSeconds(10))
                    .header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(CHAT)).build();

            assertThrows(IOException.class,
                         () -> gateway.http().send(request, HttpResponse.BodyHandlers.ofString()));
        }
    }

    @Test
    void closesUpstreamWhenClientDisconnectsMidStream() throws Exception {
        try (RawUpstream upstream = RawUpstream.start((RawUpstream.Awaiting) (head, out, up) -> {
                 RawUpstream.write(out, SSE_HEAD);
                 RawUpstream.chunk(out, EVENT);
             });
             TestGateway gateway = TestGateway.start(config(upstream.port(), defaultTimeouts()))) {
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), gateway.port())) {
                client.setSoTimeout(5000);
                sendRaw(client, "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                                + "content-length: " + CHAT_STREAM.length() + "\r\n\r\n" + CHAT_STREAM);
                String seen = readUntil(client.getInputStream(), "data: ");
                assertTrue(seen.startsWith("HTTP/1.1 200"), seen);
            }

            assertTrue(upstream.peerClosed().await(15, TimeUnit.SECONDS),
                       "the gateway closes the upstream connection when the client leaves");
        }
    }

    @Test
    void dropsTheAnswerQuietlyWhenTheClientLeavesBeforeIt() throws Exception {
        ch.qos.logback.classic.Logger handlerLog = (ch.qos.logback.classic.Logger)
                org.slf4j.LoggerFactory.getLogger(dev.detour.server.inbound.InboundRequestHandler.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> events =
                new ch.qos.logback.core.read.ListAppender<>();
        events.start();
        handlerLog.addAppender(events);
        try (RawUpstream upstream = RawUpstream.start((RawUpstream.Awaiting) (head, out, up) -> { });
             TestGateway gateway = TestGateway.start(config(upstream.port(), defaultTimeouts()))) {
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), gateway.port())) {
                sendRaw(client, "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                                + "content-length: " + CHAT.length() + "\r\n\r\n" + CHAT);
                Eventually.assertCount(1, upstream::requests, "requests that reached the upstream");
            }

            assertTrue(upstream.peerClosed().await(15, TimeUnit.SECONDS), "the upstream request is cancelled");
            gateway.awaitIdle(); // the event loop has finished with the exchange
            assertTrue(events.list.stream().noneMatch(e -> e.getLevel() == ch.qos.logback.classic.Level.ERROR),
                       "a client leaving is no internal error: " + events.list);
        } finally {
            handlerLog.detachAppender(events);
        }
    }

    @Test
    void servesPipelinedRequestsInOrder() throws Exception {
        try (TestGateway gateway = TestGateway.start(config(1, defaultTimeouts()));
             Socket client = new Socket(InetAddress.getLoopbackAddress(), gateway.port())) {
            client.setSoTimeout(5000);

            sendRaw(client, "GET /v1/models HTTP/1.1\r\nhost: x\r\n\r\n"
                            + "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n"
                            + "GET /nope HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
            String all = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

            int models = all.indexOf("\"object\":\"list\"");
            int health = all.indexOf("{\"status\":\"ok\"}");
            int notFound = all.indexOf("HTTP/1.1 404");
            assertTrue(models > 0 && health > models && notFound > health, all);
        }
    }

    @Test
    void answers431WhenHeadersAreTooLarge() throws Exception {
        try (TestGateway gateway = TestGateway.start(config(1, defaultTimeouts()));
             Socket client = new Socket(InetAddress.getLoopbackAddress(), gateway.port())) {
            client.setSoTimeout(5000);

            sendRaw(client, "GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: " + "a".repeat(20_000) + "\r\n\r\n");
            String response = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

            assertTrue(response.startsWith("HTTP/1.1 431"), response);
            assertTrue(response.contains("\"headers_too_large\""), response);
        }
    }

    @Test
    void keepsConnectionUsableAfterOversizedBody() throws Exception {
        String yaml = config(1, defaultTimeouts()).replace("upstream:", "server:\n  max-body-size: 1KiB\nupstream:");
        try (TestGateway gateway = TestGateway.start(yaml);
             Socket client = new Socket(InetAddress.getLoopbackAddress(), gateway.port())) {
            client.setSoTimeout(5000);
            String big = "{\"model\":\"m\",\"pad\":\"" + "x".repeat(3000) + "\"}";

            sendRaw(client, "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                            + "content-length: " + big.length() + "\r\n\r\n" + big
                            + "GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
            String all = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

            assertTrue(all.startsWith("HTTP/1.1 413"), all);
            assertTrue(all.contains("\"request_too_large\""), all);
            assertTrue(all.contains("{\"status\":\"ok\"}"), "the next request is served: " + all);
        }
    }

    @Test
    void echoesClientRequestIdAndGeneratesOneOtherwise() throws Exception {
        try (TestGateway gateway = TestGateway.start(config(1, defaultTimeouts()))) {
            HttpRequest withId = HttpRequest.newBuilder(gateway.uri("/healthz"))
                    .header("x-request-id", "my-trace-42").GET().build();

            HttpResponse<String> echoed = gateway.http().send(withId, HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> generated = gateway.get("/healthz");

            assertEquals("my-trace-42", echoed.headers().firstValue("x-request-id").orElseThrow());
            assertTrue(generated.headers().firstValue("x-request-id").orElseThrow().matches("req_[0-9a-f]{24}"));
        }
    }

    private static void sendRaw(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String readUntil(InputStream in, String marker) throws IOException {
        StringBuilder sb = new StringBuilder();
        int b;
        while ((b = in.read()) >= 0) {
            sb.append((char) b);
            if (sb.indexOf(marker) >= 0) {
                return sb.toString();
            }
        }
        return sb.toString();
    }
}
