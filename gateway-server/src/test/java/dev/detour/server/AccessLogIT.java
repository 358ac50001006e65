package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.server.testing.AccessLines;
import dev.detour.server.testing.Scrape;
import dev.detour.server.testing.TestGateway;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The access log of the real server: one line per request, written by the stdout sink's writer (here to a test
 * stream), in the configured format, flushed on a graceful stop; or handed to the {@code detour.access} logger.
 */
class AccessLogIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAT = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    private final Logger logger = (Logger) LoggerFactory.getLogger("detour.access");
    private Level level;

    private static String config(String logging) {
        return """
                providers:
                  mock:
                    type: mock
                routes:
                  - model: m
                    targets:
                      - provider: mock
                        model: mock-1
                logging:
                """ + logging;
    }

    /** logback-test.xml keeps the access log's logger at WARN, which turns lines off: on here, as in production. */
    @BeforeEach
    void turnTheAccessLogOn() {
        level = logger.getLevel();
        logger.setLevel(Level.INFO);
    }

    @AfterEach
    void restoreTheAccessLogger() {
        logger.setLevel(level);
    }

    @Test
    void writesOneTextLinePerRequestInOrder() throws Exception {
        try (TestGateway gateway = TestGateway.start(config("  format: text\n"))) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ids.add(requestId(gateway.postJson("/v1/chat/completions", CHAT)));
            }
            ids.add(requestId(gateway.get("/v1/models")));
            ids.add(requestId(gateway.postJson("/v1/chat/completions", "{\"model\":\"nope\",\"messages\":[]}")));

            List<String> lines = gateway.accessLog().await(5);

            for (int i = 0; i < 5; i++) {
                assertTrue(lines.get(i).startsWith("request_id=" + ids.get(i) + " client="), lines.get(i));
            }
            assertTrue(lines.get(0).matches("request_id=req_\\w+ client=anonymous method=POST "
                                            + "path=/v1/chat/completions model=m provider=mock upstream_model=mock-1 "
                                            + "key_id=\\S+ policy=- attempts=1 status=200 bytes_in=\\d+ "
                                            + "bytes_out=\\d+ latency_ms=\\d+\\.\\d{3} upstream_ms=\\d+\\.\\d{3} "
                                            + "prompt_tokens=\\d+ completion_tokens=\\d+ cached_tokens=- "
                                            + "cost_usd=\\S+ cache=- outcome=ok"), lines.get(0));
            assertTrue(lines.get(3).contains(" method=GET path=/v1/models model=- "), lines.get(3));
            assertTrue(lines.get(4).contains(" model=nope ") && lines.get(4).contains(" status=404 "), lines.get(4));
        }
    }

    @Test
    void writesOneJsonObjectPerLine() throws Exception {
        try (TestGateway gateway = TestGateway.start(config("  format: json\n"))) {
            String id = requestId(gateway.postJson("/v1/chat/completions", CHAT));

            JsonNode line = JSON.readTree(gateway.accessLog().await(1).get(0));

            assertEquals(id, line.get("request_id").asText());
            assertEquals("m", line.get("model").asText());
            assertEquals("mock-1", line.get("upstream_model").asText());
            assertEquals(200, line.get("status").asInt());
            assertTrue(line.get("prompt_tokens").asLong() > 0, line.toString());
            assertEquals("ok", line.get("outcome").asText());
        }
    }

    @Test
    void writesTheLastLinesWhenTheServerStops() throws Exception {
        // Ten seconds between flushes: only the graceful stop can write the line this soon.
        TestGateway gateway = TestGateway.start(config("  access-log-flush-interval: 10s\n"));
        AccessLines out = gateway.accessLog();
        String id;
        try {
            id = requestId(gateway.postJson("/v1/chat/completions", CHAT));
            gateway.awaitIdle();

            assertEquals(List.of(), out.lines(), "still queued: the interval is not over");
        } finally {
            gateway.close();
        }

        assertEquals(1, out.lines().size(), out.lines().toString());
        assertTrue(out.lines().get(0).startsWith("request_id=" + id + " "), out.lines().get(0));
    }

    @Test
    void publishesDroppedLinesAsAMetric() throws Exception {
        try (TestGateway gateway = TestGateway.start(config("  access-log: true\n"))) {
            Scrape scrape = Scrape.parse(gateway.get("/metrics").body());

            assertEquals(0.0, scrape.value("detour_access_log_dropped_total", "reason", "queue_full"));
            assertEquals(0.0, scrape.value("detour_access_log_dropped_total", "reason", "write_failed"));
        }
    }

    @Test
    void handsLinesToTheDetourAccessLoggerWithTheLogbackSink() throws Exception {
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        logger.addAppender(lines);
        try (TestGateway gateway = TestGateway.start(config("  access-log-sink: logback\n"))) {
            String id = requestId(gateway.postJson("/v1/chat/completions", CHAT));
            gateway.awaitIdle();

            assertEquals(1, lines.list.size(), lines.list.toString());
            assertTrue(lines.list.get(0).getFormattedMessage().startsWith("request_id=" + id + " "),
                       lines.list.get(0).getFormattedMessage());
            assertEquals(List.of(), gateway.accessLog().lines(), "nothing goes to stdout");
        } finally {
            logger.detachAppender(lines);
        }
    }

    private static String requestId(HttpResponse<String> response) {
        return response.headers().firstValue("x-request-id").orElseThrow();
    }
}
