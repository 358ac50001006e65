package dev.detour.provider;

import dev.detour.filter.Headers;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the wait hints providers send with rate limits, in the forms of {@code shared/reference/providers.md} §10.
 * Every method returns nanoseconds, or {@link UpstreamVerdict#NO_HINT} when the hint is absent or unreadable.
 *
 * <p>Thread-safe, stateless.
 */
public final class RetryHints {

    private static final Pattern GO_PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(h|ms|m|s|us|µs|ns)");
    private static final Pattern TRY_AGAIN = Pattern.compile(
            "(?:try again in|retry after|retry in)\\s+(\\d+(?:\\.\\d+)?)\\s*(ms|milliseconds?|s|sec|seconds?|m|min|minutes?)",
            Pattern.CASE_INSENSITIVE);

    private RetryHints() {
    }

    /**
     * Returns the standard hint of an answer: {@code retry-after-ms} (or Azure's {@code x-ms-retry-after-ms}),
     * then {@code retry-after} as seconds or an HTTP date.
     */
    public static long retryAfter(Headers headers, Instant now) {
        long nanos = millisToNanos(headers.get("retry-after-ms"));
        if (nanos >= 0) {
            return nanos;
        }
        nanos = millisToNanos(headers.get("x-ms-retry-after-ms"));
        if (nanos >= 0) {
            return nanos;
        }
        String value = headers.get("retry-after");
        if (value == null) {
            return UpstreamVerdict.NO_HINT;
        }
        long seconds = seconds(value.trim());
        if (seconds >= 0) {
            return seconds;
        }
        try {
            Instant at = ZonedDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            return Math.max(0, at.toEpochMilli() - now.toEpochMilli()) * 1_000_000L;
        } catch (DateTimeParseException e) {
            return UpstreamVerdict.NO_HINT;
        }
    }

    /** Parses a Go-style duration ({@code 20ms}, {@code 1s}, {@code 6m0s}, {@code 2m59.56s}, {@code 1h0m0s}). */
    public static long goDuration(String value) {
        if (value == null || value.isEmpty()) {
            return UpstreamVerdict.NO_HINT;
        }
        Matcher m = GO_PART.matcher(value.trim());
        double nanos = 0;
        int end = 0;
        while (m.find()) {
            if (m.start() != end) {
                return UpstreamVerdict.NO_HINT;
            }
            end = m.end();
            double n = Double.parseDouble(m.group(1));
            switch (m.group(2)) {
                case "h":
                    nanos += n * 3_600e9;
                    break;
                case "m":
                    nanos += n * 60e9;
                    break;
                case "s":
                    nanos += n * 1e9;
                    break;
                case "ms":
                    nanos += n * 1e6;
                    break;
                case "us":
                case "µs":
                    nanos += n * 1e3;
                    break;
                default:
                    nanos += n;
                    break;
            }
        }
        if (end == 0 || end != value.trim().length()) {
            return UpstreamVerdict.NO_HINT;
        }
        return (long) nanos;
    }

    /** Reads "try again in 1.8s" / "retry after 6 seconds" from an error message. */
    public static long fromMessage(String message) {
        if (message == null) {
            return UpstreamVerdict.NO_HINT;
        }
        Matcher m = TRY_AGAIN.matcher(message);
        if (!m.find()) {
            return UpstreamVerdict.NO_HINT;
        }
        double n = Double.parseDouble(m.group(1));
        String unit = m.group(2).toLowerCase(java.util.Locale.ROOT);
        if (unit.startsWith("ms") || unit.startsWith("milli")) {
            return (long) (n * 1e6);
        }
        if (unit.startsWith("m")) {
            return (long) (n * 60e9);
        }
        return (long) (n * 1e9);
    }

    /** Parses a decimal number of seconds ({@code 1}, {@code 0.5}) to nanoseconds, or returns -1. */
    public static long seconds(String value) {
        if (value == null || value.isEmpty()) {
            return UpstreamVerdict.NO_HINT;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < '0' || c > '9') && c != '.') {
                return UpstreamVerdict.NO_HINT;
            }
        }
        try {
            return (long) (Double.parseDouble(value) * 1e9);
        } catch (NumberFormatException e) {
            return UpstreamVerdict.NO_HINT;
        }
    }

    private static long millisToNanos(String value) {
        if (value == null) {
            return UpstreamVerdict.NO_HINT;
        }
        long asSeconds = seconds(value.trim()); // the number times 1e9
        return asSeconds < 0 ? UpstreamVerdict.NO_HINT : asSeconds / 1000;
    }
}
