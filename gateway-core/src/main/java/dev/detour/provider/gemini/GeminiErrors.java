package dev.detour.provider.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.provider.RetryHints;
import dev.detour.provider.UpstreamVerdict;
import dev.detour.provider.UpstreamVerdict.Kind;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Classifies Gemini's {@code google.rpc.Status} errors for the router and translates them for the client
 * ({@code providers.md} §5.5, §10): the body's {@code status}, {@code QuotaFailure} and {@code RetryInfo} first,
 * the HTTP status second. Thread-safe, stateless.
 */
final class GeminiErrors {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Daily quotas reset at midnight Pacific time. */
    private static final ZoneId PACIFIC = ZoneId.of("America/Los_Angeles");
    private static final String QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure";
    private static final String RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo";
    private static final String ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo";
    /** A key in a query string ({@code ?key=...}); the adapter never sends one, but a message might quote a URL. */
    private static final Pattern KEY_PARAM = Pattern.compile("([?&](?:key|api_key)=)[^&\\s\"'<>]+",
                                                             Pattern.CASE_INSENSITIVE);
    /** The shape of a Google API key, wherever it appears. */
    private static final Pattern API_KEY = Pattern.compile("AIza[0-9A-Za-z_\\-]{20,}");

    private GeminiErrors() {
    }

    /** Classifies an answer of {@code status}: a success (2xx, no limit headers to read) or an error body. */
    static UpstreamVerdict classify(int status, Headers headers, byte[] body, Instant now) {
        if (status < 400) {
            return UpstreamVerdict.OK; // Gemini sends no rate-limit headers on success.
        }
        return classifyError(status, errorOf(body), headers, now);
    }

    /**
     * Classifies one error.
     *
     * @param error the {@code error} object, or {@code null} when the body had none
     */
    static UpstreamVerdict classifyError(int status, JsonNode error, Headers headers, Instant now) {
        String rpc = text(error, "status");
        String message = text(error, "message");
        if (status == 429 || "RESOURCE_EXHAUSTED".equals(rpc)) {
            return exhausted(error, headers, message, now);
        }
        if (isKeyRejected(error, message)) {
            return UpstreamVerdict.of(Kind.KEY_INVALID, "api_key_invalid");
        }
        String detail = rpc == null ? "status_" + status : rpc.toLowerCase(Locale.ROOT);
        switch (status) {
            case 400:
                if ("FAILED_PRECONDITION".equals(rpc) && contains(message, "billing")) {
                    return UpstreamVerdict.of(Kind.QUOTA_EXHAUSTED, "billing_required");
                }
                if ("FAILED_PRECONDITION".equals(rpc) && contains(message, "location is not supported")) {
                    // The region the gateway runs in is blocked: no client request can fix that, the operator must.
                    return UpstreamVerdict.of(Kind.KEY_INVALID, "location_not_supported");
                }
                if (contains(message, "exceeds the maximum number of tokens")) {
                    return UpstreamVerdict.of(Kind.CONTEXT_TOO_LONG, "context_length_exceeded");
                }
                return UpstreamVerdict.of(Kind.CLIENT_ERROR, detail);
            case 401:
            case 403:
                return UpstreamVerdict.of(Kind.KEY_INVALID, detail);
            case 404:
                return UpstreamVerdict.of(Kind.MODEL_NOT_FOUND, detail);
            case 503:
                return new UpstreamVerdict(Kind.OVERLOADED, hint(error, headers, message, now), detail);
            default:
                return UpstreamVerdict.of(status >= 500 ? Kind.SERVER_ERROR : Kind.CLIENT_ERROR, detail);
        }
    }

    /**
     * Returns the client's error in OpenAI's envelope with Gemini's message (keys scrubbed) and a faithful status:
     * 4xx statuses stay, 503 stays (overloaded), 504 stays (deadline), other 5xx become 502.
     */
    static GatewayResponse.Full clientError(int status, byte[] body, UpstreamVerdict verdict) {
        JsonNode error = errorOf(body);
        String message = scrub(text(error, "message"));
        int clientStatus = status >= 500 && status != 503 && status != 504 ? 502 : status;
        if (message == null || message.isBlank()) {
            message = "The provider answered HTTP " + status + " without an error description (" + verdict.detail()
                      + ").";
        } else if (verdict.kind() == Kind.KEY_INVALID) {
            message = "The provider rejected the gateway's key (" + message + "). This is not a problem with your "
                      + "request or your key; the gateway operator must fix the provider key.";
        } else if (clientStatus >= 500) {
            message = "The provider failed: " + message;
        }
        Headers.Builder headers = Headers.builder().add("content-type", "application/json");
        if ((verdict.kind() == Kind.RATE_LIMITED || verdict.kind() == Kind.QUOTA_EXHAUSTED
             || verdict.kind() == Kind.OVERLOADED) && verdict.hasHint()) {
            // OpenAI's SDKs wait for retry-after (seconds) before retrying; Gemini only puts the delay in the body.
            long seconds = (verdict.waitNanos() + 999_999_999L) / 1_000_000_000L;
            headers.add("retry-after", Long.toString(Math.max(1, seconds)));
        }
        byte[] json = ErrorResponses.body(type(clientStatus), message, code(verdict, error), null);
        return new GatewayResponse.Full(clientStatus, headers.build(), json);
    }

    /** Returns the message of an error object inside a stream, fit for the client. */
    static String streamMessage(JsonNode error) {
        String message = scrub(text(error, "message"));
        return "The provider reported an error mid-stream: "
               + (message == null || message.isBlank() ? text(error, "status") : message);
    }

    /** Returns {@code message} with anything that looks like an API key replaced. */
    static String scrub(String message) {
        if (message == null) {
            return null;
        }
        String s = KEY_PARAM.matcher(message).replaceAll("$1<redacted>");
        return API_KEY.matcher(s).replaceAll("<redacted>");
    }

    /**
     * Returns the {@code error} object of a Gemini error body, or {@code null}. Streaming endpoints may wrap the
     * error in an array ({@code [{"error": ...}]}).
     */
    static JsonNode errorOf(byte[] body) {
        if (body == null || body.length == 0) {
            return null;
        }
        try {
            JsonNode root = JSON.readTree(body);
            if (root != null && root.isArray() && !root.isEmpty()) {
                root = root.get(0);
            }
            JsonNode error = root == null ? null : root.get("error");
            return error != null && error.isObject() ? error : null;
        } catch (IOException e) {
            return null; // an HTML page from a proxy, a truncated body
        }
    }

    private static UpstreamVerdict exhausted(JsonNode error, Headers headers, String message, Instant now) {
        boolean perDay = false;
        boolean perMinute = false;
        for (JsonNode detail : details(error)) {
            if (!QUOTA_FAILURE.equals(text(detail, "@type"))) {
                continue;
            }
            for (JsonNode violation : detail.path("violations")) {
                String quotaId = text(violation, "quotaId");
                String id = quotaId == null ? "" : quotaId.toLowerCase(Locale.ROOT);
                perDay |= id.contains("perday");
                perMinute |= id.contains("perminute");
            }
        }
        if (perDay) {
            // A daily quota is gone: nothing helps until it resets, however soon RetryInfo suggests to retry.
            return new UpstreamVerdict(Kind.QUOTA_EXHAUSTED, untilPacificMidnight(now), "quota_per_day");
        }
        return new UpstreamVerdict(Kind.RATE_LIMITED, hint(error, headers, message, now),
                                   perMinute ? "quota_per_minute" : "resource_exhausted");
    }

    private static boolean isKeyRejected(JsonNode error, String message) {
        if (contains(message, "api key not valid") || contains(message, "api key expired")) {
            return true;
        }
        for (JsonNode detail : details(error)) {
            String reason = text(detail, "reason");
            if (ERROR_INFO.equals(text(detail, "@type")) && reason != null
                && (reason.equals("API_KEY_INVALID") || reason.equals("API_KEY_EXPIRED"))) {
                return true;
            }
        }
        return false;
    }

    /** Returns the wait hint: {@code RetryInfo.retryDelay}, then {@code retry-after}, then "retry in 26s" text. */
    private static long hint(JsonNode error, Headers headers, String message, Instant now) {
        for (JsonNode detail : details(error)) {
            if (RETRY_INFO.equals(text(detail, "@type"))) {
                long delay = protoDuration(text(detail, "retryDelay"));
                if (delay >= 0) {
                    return delay;
                }
            }
        }
        long header = RetryHints.retryAfter(headers, now);
        return header >= 0 ? header : RetryHints.fromMessage(message);
    }

    /** Parses a protobuf {@code Duration} in JSON ({@code "26s"}, {@code "1.500s"}) to nanoseconds, or -1. */
    static long protoDuration(String value) {
        if (value == null || value.length() < 2 || value.charAt(value.length() - 1) != 's') {
            return UpstreamVerdict.NO_HINT;
        }
        return RetryHints.seconds(value.substring(0, value.length() - 1));
    }

    /** Returns the time from {@code now} to the next midnight in America/Los_Angeles, in nanoseconds. */
    static long untilPacificMidnight(Instant now) {
        ZonedDateTime midnight = now.atZone(PACIFIC).toLocalDate().plusDays(1).atStartOfDay(PACIFIC);
        return Duration.between(now, midnight.toInstant()).toNanos();
    }

    private static String code(UpstreamVerdict verdict, JsonNode error) {
        switch (verdict.kind()) {
            case RATE_LIMITED:
                return "rate_limit_exceeded";
            case QUOTA_EXHAUSTED:
                return "insufficient_quota";
            case CONTEXT_TOO_LONG:
                return "context_length_exceeded";
            case MODEL_NOT_FOUND:
                return "model_not_found";
            default:
                String rpc = text(error, "status");
                return rpc == null ? verdict.detail() : rpc.toLowerCase(Locale.ROOT);
        }
    }

    private static String type(int status) {
        switch (status) {
            case 401:
                return "authentication_error";
            case 403:
                return "permission_error";
            case 404:
                return "not_found_error";
            case 429:
                return "rate_limit_error";
            case 503:
                return "service_unavailable_error";
            case 504:
                return "timeout_error";
            default:
                return status >= 500 ? "upstream_error" : "invalid_request_error";
        }
    }

    private static Iterable<JsonNode> details(JsonNode error) {
        JsonNode details = error == null ? null : error.get("details");
        return details != null && details.isArray() ? details : java.util.List.of();
    }

    private static boolean contains(String message, String lowerNeedle) {
        return message != null && message.toLowerCase(Locale.ROOT).contains(lowerNeedle);
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node == null ? null : node.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
