package dev.detour.provider.mock;

import dev.detour.config.MockFailureConfig;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.Headers;
import java.time.Duration;

/**
 * Renders scripted failures as OpenAI does: status, error envelope, and for rate limits the
 * {@code retry-after} and {@code x-ratelimit-*} headers (providers.md §2.7, §2.8). Messages name the
 * key by its id only, never by its value.
 */
final class FailureReplies {

    private static final long NANOS_PER_MILLI = 1_000_000L;

    private FailureReplies() {
    }

    /** Returns the reply for {@code rule} failing a request for {@code model} on key {@code keyId}. */
    static MockReply of(MockFailureConfig rule, String model, String keyId, Duration delay) {
        return switch (rule.kind()) {
            case RATE_LIMIT -> rateLimit(rule, model, keyId, delay);
            case INSUFFICIENT_QUOTA -> error(429, delay, "insufficient_quota", "insufficient_quota",
                    "You exceeded your current quota, please check your plan and billing details.");
            case INVALID_KEY -> error(401, delay, "invalid_request_error", "invalid_api_key",
                    "Incorrect API key provided: (mock key " + keyId + ").");
            case SERVER_ERROR -> error(500, delay, "server_error", null,
                    "The server had an error while processing your request. Sorry about that!");
            case OVERLOADED -> error(503, delay, "service_unavailable_error", "server_is_overloaded",
                    "The server is overloaded or not ready yet.");
            // Should a caller play it anyway, a 504 is the honest answer to a request that never ends.
            case TIMEOUT -> MockReply.hanging(error(504, delay, "timeout_error", null,
                    "The mock provider never answers this request (scripted timeout)."));
        };
    }

    /**
     * Returns {@code duration} the way OpenAI's {@code x-ratelimit-reset-*} headers and messages write it,
     * Go-style ({@code 500ms}, {@code 2s}, {@code 7.66s}, {@code 6m0s}), rounded up to whole milliseconds
     * so a wait is never understated.
     */
    static String goDuration(Duration duration) {
        long millis = ceilMillis(duration);
        if (millis == 0) {
            return "0s";
        }
        if (millis < 1000) {
            return millis + "ms";
        }
        StringBuilder out = new StringBuilder(16);
        long hours = millis / 3_600_000;
        long minutes = millis / 60_000 % 60;
        if (hours > 0) {
            out.append(hours).append('h');
        }
        if (hours > 0 || minutes > 0) {
            out.append(minutes).append('m');
        }
        long secondMillis = millis % 60_000;
        out.append(secondMillis / 1000);
        long fraction = secondMillis % 1000;
        if (fraction > 0) {
            String digits = Long.toString(1000 + fraction).substring(1);
            int end = digits.length();
            while (digits.charAt(end - 1) == '0') {
                end--;
            }
            out.append('.').append(digits, 0, end);
        }
        return out.append('s').toString();
    }

    private static MockReply rateLimit(MockFailureConfig rule, String model, String keyId, Duration delay) {
        Duration retryAfter = rule.retryAfter();
        // A rule without a count fails every request; report a limit of one so the numbers stay plausible.
        int limit = Math.max(1, rule.times());
        String reset = goDuration(retryAfter);
        StringBuilder message = new StringBuilder(160)
                .append("Rate limit reached for ").append(model).append(" (mock key ").append(keyId)
                .append(") on requests per min (RPM): Limit ").append(limit).append(", Used ").append(limit)
                .append(", Requested 1.");
        Headers.Builder headers = Headers.builder().add("content-type", "application/json");
        long millis = ceilMillis(retryAfter);
        if (millis > 0) {
            message.append(" Please try again in ").append(reset).append('.');
            headers.add("retry-after", Long.toString((millis + 999) / 1000))
                    .add("retry-after-ms", Long.toString(millis));
        }
        headers.add("x-ratelimit-limit-requests", Integer.toString(limit))
                .add("x-ratelimit-remaining-requests", "0")
                .add("x-ratelimit-reset-requests", reset);
        byte[] body = ErrorResponses.body("requests", message.toString(), "rate_limit_exceeded", null);
        return MockReply.full(429, headers.build(), delay, body);
    }

    private static MockReply error(int status, Duration delay, String type, String code, String message) {
        return MockReply.full(status, MockJson.JSON_HEADERS, delay, ErrorResponses.body(type, message, code, null));
    }

    /** Returns whole milliseconds, rounded up; zero for a negative duration. */
    private static long ceilMillis(Duration duration) {
        if (duration.isNegative()) {
            return 0;
        }
        return duration.toMillis() + (duration.toNanosPart() % NANOS_PER_MILLI > 0 ? 1 : 0);
    }
}
