package dev.detour.server.accesslog;

import dev.detour.config.LoggingConfig;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access log of one config version: one line per request, as key=value text or one JSON object, to Detour's
 * {@link AccessLogWriter} (stdout, the default) or to the {@code detour.access} Logback logger.
 *
 * <p>Lines are written only while the {@code detour.access} logger is enabled at {@code INFO}, whatever the sink:
 * its level stays the switch an operator's {@code logback.xml} (or a test) can turn lines off with.
 *
 * <p>Thread-safe; {@link #log} is called on event loops. Nothing secret goes in: no keys, no bodies, only ids and
 * names from config.
 */
public final class AccessLog {

    private static final Logger LOG = LoggerFactory.getLogger("detour.access");
    /** Each event loop's buffer for lines handed to Logback, which wants a {@code String}. */
    private static final FastThreadLocal<LineBuffer> LOGBACK_LINES = new FastThreadLocal<>() {
        @Override
        protected LineBuffer initialValue() {
            return new LineBuffer(512);
        }
    };

    private final boolean enabled;
    private final boolean json;
    private final boolean toLogback;
    private final AccessLogWriter writer;

    /**
     * Creates the access log {@code config} asks for, handing lines to {@code writer} with the stdout sink. Whoever
     * owns the writer starts it ({@link AccessLogWriter#start()}) when {@link #usesWriter()} says lines go to it.
     */
    public AccessLog(LoggingConfig config, AccessLogWriter writer) {
        this.enabled = config.accessLog();
        this.json = config.format() == LoggingConfig.Format.JSON;
        this.toLogback = config.sink() == LoggingConfig.Sink.LOGBACK;
        this.writer = Objects.requireNonNull(writer, "writer");
    }

    /** Returns whether lines go to the writer: the access log is on, with the stdout sink. */
    public boolean usesWriter() {
        return enabled && !toLogback;
    }

    /** Returns whether lines are written at all. */
    public boolean enabled() {
        return enabled && LOG.isInfoEnabled();
    }

    /**
     * Writes the line for one finished request. Called on the event loop, once per request; with the stdout sink
     * {@code e} is handed over to the writer's thread, so the caller must not change it afterwards. Never blocks:
     * when the writer's queue is full the line is dropped and counted.
     */
    public void log(Entry e) {
        if (!enabled()) {
            return;
        }
        e.json = json;
        if (toLogback) {
            LOG.info(format(e));
            return;
        }
        writer.offer(e);
    }

    /** Returns {@code e}'s line in the format it was handed over with, without a line separator. */
    static String format(Entry e) {
        LineBuffer line = LOGBACK_LINES.get();
        line.clear();
        if (e.json) {
            LineFormat.json(e, line);
        } else {
            LineFormat.text(e, line);
        }
        return line.toString();
    }

    /**
     * The facts of one request; filled in on its event loop as they become known, then handed to {@link #log}.
     * One per request, not thread-safe; not to be changed once handed over.
     */
    public static final class Entry {
        public String requestId = "-";
        public String client = "-";
        public String policy = "-";
        public String method = "-";
        public String path = "-";
        public String model = "-";
        public String provider = "-";
        public String upstreamModel = "-";
        public String keyId = "-";
        public int attempts;
        public int status;
        public long bytesIn;
        public long bytesOut;
        public long latencyNanos;
        public long upstreamNanos = -1;
        /** Tokens the provider reported, or -1 when none was called or it reported no usage. */
        public long promptTokens = -1;
        public long completionTokens = -1;
        /** Prompt tokens read from the provider's cache, or -1 when not reported. */
        public long cachedTokens = -1;
        /** Cost at list price in micro-dollars, or -1 when there is no usage or the model has no price. */
        public long costMicros = -1;
        /** What the response cache did: {@code hit}, {@code miss}, {@code bypass}, {@code stale}, or {@code -}. */
        public String cache = "-";
        /** {@code ok}, or how the exchange ended otherwise: {@code client_closed}, {@code upstream_broken}. */
        public String outcome = "ok";
        /** The format of the config version the request ran on; set by {@link #log}, read by the writer. */
        boolean json;
    }
}
