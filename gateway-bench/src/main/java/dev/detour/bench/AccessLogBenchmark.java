package dev.detour.bench;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import dev.detour.config.LoggingConfig;
import dev.detour.server.accesslog.AccessLog;
import dev.detour.server.accesslog.AccessLogWriter;
import java.io.FileNotFoundException;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.slf4j.LoggerFactory;

/**
 * What one access-log line costs, through each sink.
 *
 * <ul>
 *   <li>{@code logbackAsync}: the event loop's share with {@code logging.access-log-sink: logback}, the only path
 *       before Detour had its own writer: the line built as a string and logged to {@code detour.access}, which
 *       the bundled {@code logback.xml} sends through an {@code AsyncAppender} (queue 8192, never blocking), here
 *       to a null stream;
 *   <li>{@code logbackSyncDevNull}: a line's whole cost on that path (built, logged, encoded and written with its
 *       own {@code write(2)} to {@code /dev/null}), which on one CPU the event loop pays either way;
 *   <li>{@code writerHandOff}: the event loop's share with the default stdout sink: the entry handed to the
 *       writer's queue (per line, 1000 per call; the queue is emptied between calls, outside the timing);
 *   <li>{@code writerDevNull}: a line's whole cost with the stdout sink: handed over, then formatted and written
 *       by the writer in batches to {@code /dev/null} (per line, 1000 per call).
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AccessLogBenchmark {

    private static final LoggingConfig LOGBACK_SINK = new LoggingConfig(true, LoggingConfig.Format.TEXT,
            LoggingConfig.Sink.LOGBACK, Duration.ofMillis(100), 8192);
    private static final int LINES = 1000;

    /** The access log's logger, sending each line through an async appender to a null stream. */
    @State(Scope.Benchmark)
    public static class LogbackAsync {
        AccessLog log;
        private Logger logger;

        @Setup
        public void setUp() {
            logger = route(OutputStream.nullOutputStream(), true);
            log = new AccessLog(LOGBACK_SINK, AccessLogWriter.newWriter(OutputStream.nullOutputStream(), 64,
                                                                        Duration.ofMillis(100)));
        }

        @TearDown
        public void tearDown() {
            logger.detachAndStopAllAppenders();
        }
    }

    /** The access log's logger, writing each line at once to {@code /dev/null}: a line's whole cost. */
    @State(Scope.Benchmark)
    public static class LogbackSync {
        AccessLog log;
        private Logger logger;

        @Setup
        public void setUp() throws FileNotFoundException {
            logger = route(new FileOutputStream("/dev/null"), false);
            log = new AccessLog(LOGBACK_SINK, AccessLogWriter.newWriter(OutputStream.nullOutputStream(), 64,
                                                                        Duration.ofMillis(100)));
        }

        @TearDown
        public void tearDown() {
            logger.detachAndStopAllAppenders();
        }
    }

    /**
     * The default stdout sink with a writer that is not started, so that the benchmark thread decides when lines
     * are written: between calls (hand-off only) or within them (the whole cost).
     */
    @State(Scope.Benchmark)
    public static class Writer {
        AccessLog log;
        AccessLogWriter writer;

        @Setup
        public void setUp() throws FileNotFoundException {
            route(OutputStream.nullOutputStream(), false); // detour.access at INFO, which turns lines on
            writer = AccessLogWriter.newWriter(new FileOutputStream("/dev/null"), 8192, Duration.ofMillis(100));
            log = new AccessLog(LoggingConfig.ofDefault(), writer);
        }

        @Setup(Level.Invocation)
        public void empty() {
            writer.writeQueued();
        }
    }

    private final AccessLog.Entry entry = entry();

    @Benchmark
    public void logbackAsync(LogbackAsync state) {
        state.log.log(entry);
    }

    @Benchmark
    public void logbackSyncDevNull(LogbackSync state) {
        state.log.log(entry);
    }

    @Benchmark
    @OperationsPerInvocation(LINES)
    public void writerHandOff(Writer state) {
        for (int i = 0; i < LINES; i++) {
            state.log.log(entry);
        }
    }

    @Benchmark
    @OperationsPerInvocation(LINES)
    public int writerDevNull(Writer state) {
        for (int i = 0; i < LINES; i++) {
            state.log.log(entry);
        }
        return state.writer.writeQueued();
    }

    /** A finished chat completion, as the handler fills it in. */
    static AccessLog.Entry entry() {
        AccessLog.Entry e = new AccessLog.Entry();
        e.requestId = "req_0864a49203a74b4064a106cc";
        e.client = "web-app";
        e.method = "POST";
        e.path = "/v1/chat/completions";
        e.model = "gpt-4o-mini";
        e.provider = "openai";
        e.upstreamModel = "gpt-4o-mini-2024-07-18";
        e.keyId = "main";
        e.policy = "pro-tier";
        e.attempts = 1;
        e.status = 200;
        e.bytesIn = 1_076;
        e.bytesOut = 845;
        e.latencyNanos = 411_374_512;
        e.upstreamNanos = 403_699_001;
        e.promptTokens = 250;
        e.completionTokens = 96;
        e.costMicros = 95;
        e.cache = "miss";
        return e;
    }

    /**
     * Points the {@code detour.access} logger at {@code out} with the bundled config's {@code %msg%n} pattern,
     * through an {@code AsyncAppender} like the bundled one when {@code async}.
     */
    private static Logger route(OutputStream out, boolean async) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger logger = context.getLogger("detour.access");
        logger.detachAndStopAllAppenders();
        logger.setAdditive(false);
        logger.setLevel(ch.qos.logback.classic.Level.INFO);
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%msg%n");
        encoder.start();
        OutputStreamAppender<ILoggingEvent> stream = new OutputStreamAppender<>();
        stream.setContext(context);
        stream.setName("bench-out");
        stream.setEncoder(encoder);
        stream.setOutputStream(out);
        stream.start();
        if (!async) {
            logger.addAppender(stream);
            return logger;
        }
        AsyncAppender queue = new AsyncAppender();
        queue.setContext(context);
        queue.setName("bench-async");
        queue.setQueueSize(8192);
        queue.setDiscardingThreshold(0);
        queue.setNeverBlock(true);
        queue.addAppender(stream);
        queue.start();
        logger.addAppender(queue);
        return logger;
    }
}
