package dev.detour.ratelimit;

import java.time.Duration;

/**
 * Writes durations the way rate-limit headers and messages show them.
 *
 * <p>OpenAI's {@code x-ratelimit-reset-*} headers use Go's {@code time.Duration} format ({@code 1s},
 * {@code 6m0s}, {@code 20ms}, {@code 1.5s}); clients parse them with that grammar in mind, so this follows
 * it, rounded up to whole milliseconds.
 */
final class DurationText {

    private static final long MILLI = 1_000_000L;
    private static final long SECOND = 1_000_000_000L;

    private DurationText() {
    }

    /** Returns {@code nanos} in Go's duration format, rounded up to a millisecond: {@code 6m0s}, {@code 1.25s}. */
    static String go(long nanos) {
        if (nanos <= 0) {
            return "0s";
        }
        long millis = ceilDiv(nanos, MILLI);
        if (millis < 1000) {
            return millis + "ms";
        }
        StringBuilder sb = new StringBuilder(12);
        long hours = millis / 3_600_000;
        long minutes = millis / 60_000 % 60;
        long seconds = millis / 1000 % 60;
        long fraction = millis % 1000;
        if (hours > 0) {
            sb.append(hours).append('h');
        }
        if (hours > 0 || minutes > 0) {
            sb.append(minutes).append('m');
        }
        sb.append(seconds);
        if (fraction > 0) {
            String digits = Long.toString(1000 + fraction).substring(1);
            int end = digits.length();
            while (digits.charAt(end - 1) == '0') {
                end--;
            }
            sb.append('.').append(digits, 0, end);
        }
        return sb.append('s').toString();
    }

    /**
     * Returns a wait for people: whole seconds rounded up from one second on ({@code 14s}, {@code 6m0s}),
     * milliseconds below ({@code 200ms}).
     */
    static String roughly(long nanos) {
        if (nanos >= SECOND) {
            return go(ceilDiv(nanos, SECOND) * SECOND);
        }
        return go(nanos);
    }

    /**
     * Returns a refill interval as a rate's unit: {@code /s}, {@code /min}, {@code /h}, {@code /day}, or for
     * other intervals e.g. {@code " per 30s"}.
     */
    static String window(Duration per) {
        long nanos = per.toNanos();
        if (nanos == SECOND) {
            return "/s";
        }
        if (nanos == 60 * SECOND) {
            return "/min";
        }
        if (nanos == 3600 * SECOND) {
            return "/h";
        }
        if (nanos == 86_400 * SECOND) {
            return "/day";
        }
        return " per " + go(nanos);
    }

    /** Returns {@code nanos} in whole seconds, rounded up, at least 1: {@code Retry-After}. */
    static long retryAfterSeconds(long nanos) {
        return Math.max(1, ceilDiv(nanos, SECOND));
    }

    /** Returns {@code nanos} in whole milliseconds, rounded up, at least 1: {@code retry-after-ms}. */
    static long retryAfterMillis(long nanos) {
        return Math.max(1, ceilDiv(nanos, MILLI));
    }

    private static long ceilDiv(long x, long y) {
        return -Math.floorDiv(-x, y);
    }
}
