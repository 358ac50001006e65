package dev.detour.config;

import java.util.Objects;

/**
 * Access-log settings.
 *
 * @param accessLog whether one line per request is written to the {@code detour.access} logger
 * @param format    {@code text} (key=value pairs) or {@code json} (one object per line)
 */
public record LoggingConfig(boolean accessLog, Format format) {

    public LoggingConfig {
        Objects.requireNonNull(format, "format");
    }

    /** Returns the defaults: access log on, text format. */
    public static LoggingConfig ofDefault() {
        return new LoggingConfig(true, Format.TEXT);
    }

    /** Access-log line format. */
    public enum Format { TEXT, JSON }
}
