package dev.detour.provider.anthropic;

import dev.detour.filter.Headers;
import dev.detour.provider.UpstreamVerdict;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/**
 * Reads Anthropic's rate-limit headers ({@code providers.md} §4.4): every bucket has
 * {@code anthropic-ratelimit-<bucket>-remaining} and {@code -reset}, the reset being an RFC 3339 timestamp of
 * full replenishment.
 *
 * <p>Thread-safe, stateless.
 */
final class RateLimits {

    private static final String[] BUCKETS = {"requests", "tokens", "input-tokens", "output-tokens"};

    private RateLimits() {
    }

    /**
     * Returns the time until the earliest reset among the buckets whose remaining is 0, in nanoseconds, or
     * {@link UpstreamVerdict#NO_HINT} when no bucket is exhausted or none says when it resets. The buckets
     * refill continuously, so the earliest reset is when a retry first has a chance.
     */
    static long exhaustedReset(Headers headers, Instant now) {
        long earliest = UpstreamVerdict.NO_HINT;
        for (String bucket : BUCKETS) {
            String remaining = headers.get("anthropic-ratelimit-" + bucket + "-remaining");
            if (remaining == null || !remaining.trim().equals("0")) {
                continue;
            }
            long wait = until(headers.get("anthropic-ratelimit-" + bucket + "-reset"), now);
            if (wait >= 0 && (earliest < 0 || wait < earliest)) {
                earliest = wait;
            }
        }
        return earliest;
    }

    /** Returns the nanoseconds from {@code now} to an RFC 3339 timestamp (0 if past), or -1 if unreadable. */
    static long until(String rfc3339, Instant now) {
        if (rfc3339 == null || rfc3339.isBlank()) {
            return UpstreamVerdict.NO_HINT;
        }
        try {
            Instant at = OffsetDateTime.parse(rfc3339.trim()).toInstant();
            return Math.max(0, at.toEpochMilli() - now.toEpochMilli()) * 1_000_000L;
        } catch (DateTimeParseException e) {
            return UpstreamVerdict.NO_HINT;
        }
    }

    /**
     * Returns the nanoseconds until 00:00 UTC on the first of next month: when a tier's monthly spend cap
     * ({@code enforced_spend_limit_reached}) lifts.
     */
    static long untilNextMonthUtc(Instant now) {
        OffsetDateTime t = now.atOffset(ZoneOffset.UTC);
        OffsetDateTime next = t.withDayOfMonth(1).toLocalDate().atStartOfDay().atOffset(ZoneOffset.UTC).plusMonths(1);
        return (next.toInstant().toEpochMilli() - now.toEpochMilli()) * 1_000_000L;
    }
}
