package dev.detour.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Access-log settings.
 *
 * @param accessLog     whether one line per request is written
 * @param format        {@code text} (key=value pairs) or {@code json} (one object per line)
 * @param sink          where lines go: Detour's own batching writer to stdout, or the {@code detour.access} logger
 * @param flushInterval the longest a line waits in the stdout writer before it is written, from
 *                      {@link #MIN_FLUSH_INTERVAL} to {@link #MAX_FLUSH_INTERVAL}
 * @param queueSize     how many lines may wait for the stdout writer; more are dropped and counted, from
 *                      {@link #MIN_QUEUE_SIZE} to {@link #MAX_QUEUE_SIZE}
 */
public record LoggingConfig(boolean accessLog, Format format, Sink sink, Duration flushInterval, int queueSize) {

    /** The shortest flush interval: shorter mostly wakes the writer for nothing. */
    public static final Duration MIN_FLUSH_INTERVAL = Duration.ofMillis(1);
    /** The longest flush interval: longer hides a quiet gateway's lines from whoever watches the log. */
    public static final Duration MAX_FLUSH_INTERVAL = Duration.ofSeconds(10);
    public static final int MIN_QUEUE_SIZE = 64;
    public static final int MAX_QUEUE_SIZE = 1 << 20;

    public LoggingConfig {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(sink, "sink");
        Objects.requireNonNull(flushInterval, "flushInterval");
        if (flushInterval.compareTo(MIN_FLUSH_INTERVAL) < 0 || flushInterval.compareTo(MAX_FLUSH_INTERVAL) > 0) {
            throw new IllegalArgumentException("flushInterval: " + flushInterval + " (expected: from "
                                               + MIN_FLUSH_INTERVAL + " to " + MAX_FLUSH_INTERVAL + ")");
        }
        if (queueSize < MIN_QUEUE_SIZE || queueSize > MAX_QUEUE_SIZE) {
            throw new IllegalArgumentException("queueSize: " + queueSize + " (expected: from " + MIN_QUEUE_SIZE
                                               + " to " + MAX_QUEUE_SIZE + ")");
        }
    }

    /** Returns settings with {@code accessLog} and {@code format}, and the defaults for the rest. */
    public LoggingConfig(boolean accessLog, Format format) {
        this(accessLog, format, Sink.STDOUT, Duration.ofMillis(100), 8192);
    }

    /** Returns the defaults: access log on, text format, to stdout, written at least every 100 ms, 8192 queued. */
    public static LoggingConfig ofDefault() {
        return new LoggingConfig(true, Format.TEXT);
    }

    /** Access-log line format. */
    public enum Format { TEXT, JSON }

    /** Where access-log lines go. */
    public enum Sink {
        /** Detour's own writer: lines are queued, formatted on its thread and written to stdout in batches. */
        STDOUT,
        /** The {@code detour.access} Logback logger, for a logging setup that routes it elsewhere. */
        LOGBACK
    }
}
