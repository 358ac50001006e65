package dev.detour.server.accesslog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.config.LoggingConfig;
import dev.detour.server.testing.AccessLines;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class AccessLogTest {

    private static final LoggingConfig TEXT = new LoggingConfig(true, LoggingConfig.Format.TEXT);
    private static final LoggingConfig JSON = new LoggingConfig(true, LoggingConfig.Format.JSON);

    private final Logger logger = (Logger) LoggerFactory.getLogger("detour.access");
    private final AccessLines out = new AccessLines();
    private final AccessLogWriter writer = AccessLogWriter.newWriter(out, 64, Duration.ofMillis(100));
    private Level level;

    /** logback-test.xml keeps the access log's logger at WARN: on here, as in production. */
    @BeforeEach
    void turnTheAccessLoggerOn() {
        level = logger.getLevel();
        logger.setLevel(Level.INFO);
    }

    @AfterEach
    void restoreTheAccessLogger() {
        logger.setLevel(level);
        writer.close();
    }

    private static AccessLog.Entry entry() {
        AccessLog.Entry e = new AccessLog.Entry();
        e.requestId = "req_1";
        e.method = "POST";
        e.path = "/v1/chat/completions";
        e.model = "gpt \"quoted\"";
        e.provider = "openai";
        e.upstreamModel = "gpt-4o-mini";
        e.keyId = "k1";
        e.attempts = 1;
        e.status = 200;
        e.bytesIn = 120;
        e.bytesOut = 640;
        e.latencyNanos = 12_345_678;
        e.upstreamNanos = 10_005_000;
        return e;
    }

    @Test
    void handsEachLineToTheWriterInTheFormatOfItsConfigVersion() {
        AccessLog text = new AccessLog(TEXT, writer);
        AccessLog json = new AccessLog(JSON, writer);

        text.log(entry());
        json.log(entry());
        writer.writeQueued();

        assertTrue(text.usesWriter());
        assertEquals(List.of(text(entry()), json(entry())), out.lines());
    }

    @Test
    void writesNothingWhenTheAccessLogIsOffOrItsLoggerIsBelowInfo() {
        AccessLog off = new AccessLog(new LoggingConfig(false, LoggingConfig.Format.TEXT), writer);
        AccessLog on = new AccessLog(TEXT, writer);

        off.log(entry());
        logger.setLevel(Level.WARN);
        on.log(entry());
        writer.writeQueued();

        assertFalse(off.usesWriter());
        assertFalse(on.enabled(), "the detour.access logger's level still turns lines off");
        assertEquals(List.of(), out.lines());
    }

    @Test
    void sendsTheSameLinesToTheLoggerWithTheLogbackSink() {
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        logger.addAppender(lines);
        try {
            AccessLog text = new AccessLog(withLogbackSink(TEXT), writer);
            AccessLog json = new AccessLog(withLogbackSink(JSON), writer);

            text.log(entry());
            json.log(entry());

            assertFalse(text.usesWriter(), "the writer is not needed");
            assertEquals(2, lines.list.size());
            assertEquals(text(entry()), lines.list.get(0).getFormattedMessage());
            assertEquals(json(entry()), lines.list.get(1).getFormattedMessage());
            assertEquals(0, writer.writeQueued(), "nothing went to the writer");
        } finally {
            logger.detachAppender(lines);
        }
    }

    @Test
    void writesKeyValueText() {
        String line = text(entry());

        assertTrue(line.startsWith("request_id=req_1 client=- method=POST path=/v1/chat/completions"), line);
        assertTrue(line.contains(" status=200 bytes_in=120 bytes_out=640 latency_ms=12.345 upstream_ms=10.005"), line);
    }

    @Test
    void writesOneJsonObject() throws Exception {
        JsonNode json = new ObjectMapper().readTree(json(entry()));

        assertEquals("req_1", json.get("request_id").asText());
        assertEquals("gpt \"quoted\"", json.get("model").asText());
        assertEquals(200, json.get("status").asInt());
        assertEquals(12.345, json.get("latency_ms").asDouble(), 1e-9);
        assertEquals("ok", json.get("outcome").asText());
    }

    @Test
    void writesNullUpstreamTimeWhenNoUpstreamWasCalled() throws Exception {
        AccessLog.Entry e = entry();
        e.upstreamNanos = -1;

        assertTrue(new ObjectMapper().readTree(json(e)).get("upstream_ms").isNull());
        assertTrue(text(e).contains("upstream_ms=-"));
    }

    @Test
    void writesTokensAndCost() throws Exception {
        AccessLog.Entry e = entry();
        e.promptTokens = 1200;
        e.completionTokens = 340;
        e.cachedTokens = 1024;
        e.costMicros = 6_400_025;

        assertTrue(text(e).contains(" upstream_ms=10.005 prompt_tokens=1200 completion_tokens=340 "
                                                + "cached_tokens=1024 cost_usd=6.400025 cache=- outcome=ok"),
                   text(e));
        JsonNode json = new ObjectMapper().readTree(json(e));
        assertEquals(1200, json.get("prompt_tokens").asLong());
        assertEquals(340, json.get("completion_tokens").asLong());
        assertEquals(1024, json.get("cached_tokens").asLong());
        assertEquals("6.400025", json.get("cost_usd").decimalValue().toPlainString());
    }

    @Test
    void writesWhatTheCacheDid() throws Exception {
        AccessLog.Entry e = entry();
        e.cache = "hit";

        assertTrue(text(e).contains(" cache=hit outcome=ok"), text(e));
        assertEquals("hit", new ObjectMapper().readTree(json(e)).get("cache").asText());
    }

    @Test
    void writesSmallCostsWithLeadingZeros() {
        AccessLog.Entry e = entry();
        e.promptTokens = 3;
        e.completionTokens = 0;
        e.costMicros = 42;

        assertTrue(text(e).contains(" cost_usd=0.000042 "), text(e));
    }

    @Test
    void writesNoUsageWhenNoneWasReported() throws Exception {
        AccessLog.Entry e = entry();

        assertTrue(text(e).contains(" prompt_tokens=- completion_tokens=- cached_tokens=- cost_usd=- "),
                   text(e));
        JsonNode json = new ObjectMapper().readTree(json(e));
        assertTrue(json.get("prompt_tokens").isNull());
        assertTrue(json.get("cost_usd").isNull());
    }

    private static LoggingConfig withLogbackSink(LoggingConfig c) {
        return new LoggingConfig(c.accessLog(), c.format(), LoggingConfig.Sink.LOGBACK, c.flushInterval(),
                                 c.queueSize());
    }

    private static String text(AccessLog.Entry e) {
        return new String(LineFormatTest.text(e), StandardCharsets.UTF_8);
    }

    private static String json(AccessLog.Entry e) {
        return new String(LineFormatTest.json(e), StandardCharsets.UTF_8);
    }
}
