package dev.detour.provider.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.provider.RetryHints;
import dev.detour.provider.StreamFailure;
import dev.detour.provider.UpstreamVerdict;
import dev.detour.provider.UpstreamVerdict.Kind;
import java.io.IOException;
import java.time.Instant;
import java.util.Locale;

/**
 * Classifies Bedrock's errors (providers.md §8 and §10) and turns them into OpenAI's envelope.
 *
 * <p>The error's name comes from the {@code x-amzn-errortype} header ({@code ThrottlingException:http://...}),
 * else the body's {@code __type} ({@code com.amazon.coral.service#ThrottlingException}); in a stream, from the
 * exception frame's {@code :exception-type} ({@code throttlingException}). Names are compared ignoring case, so
 * one table serves all three. The status decides only when no name is given. Bedrock sends no retry hint; a
 * {@code retry-after} from a proxy in front is still honoured.
 *
 * <p>Thread-safe, stateless.
 */
final class BedrockErrors {

    private static final ObjectMapper JSON = new ObjectMapper();

    private BedrockErrors() {
    }

    /** Classifies an HTTP error answer. */
    static UpstreamVerdict classify(int status, Headers headers, byte[] body, Instant now) {
        JsonNode json = parse(body);
        String type = errorType(headers, json);
        String message = message(json);
        UpstreamVerdict verdict = classify(type, status, message);
        if (verdict.kind() == Kind.RATE_LIMITED || verdict.kind() == Kind.OVERLOADED) {
            long hint = RetryHints.retryAfter(headers, now);
            if (hint >= 0) {
                return new UpstreamVerdict(verdict.kind(), hint, verdict.detail());
            }
        }
        return verdict;
    }

    /**
     * Classifies an error by its name ({@code null} when unknown), falling back on {@code status} (0 in a stream).
     */
    static UpstreamVerdict classify(String type, int status, String message) {
        String detail = type != null ? type : "status_" + status;
        String lower = message == null ? "" : message.toLowerCase(Locale.ROOT);
        switch (type == null ? "" : type.toLowerCase(Locale.ROOT)) {
            case "throttlingexception":
                // Accounts with a daily token quota get the same exception; waiting minutes will not help.
                return UpstreamVerdict.of(lower.contains("per day") ? Kind.QUOTA_EXHAUSTED : Kind.RATE_LIMITED, detail);
            case "servicequotaexceededexception":
                return UpstreamVerdict.of(Kind.QUOTA_EXHAUSTED, detail);
            case "accessdeniedexception": // no access to the model is still the key's scope: an operator must act
            case "unrecognizedclientexception":
            case "invalidsignatureexception":
            case "signaturedoesnotmatchexception":
            case "signaturedoesnotmatch":
            case "incompletesignatureexception":
            case "missingauthenticationtokenexception":
            case "expiredtokenexception":
            case "invalidclienttokenid":
                return UpstreamVerdict.of(Kind.KEY_INVALID, detail);
            case "serviceunavailableexception":
            case "modelnotreadyexception":
                return UpstreamVerdict.of(Kind.OVERLOADED, detail);
            case "modeltimeoutexception":
                return UpstreamVerdict.of(Kind.TIMEOUT, detail);
            case "modelerrorexception":
            case "modelstreamerrorexception":
            case "internalserverexception":
                return UpstreamVerdict.of(Kind.SERVER_ERROR, detail);
            case "resourcenotfoundexception":
                return UpstreamVerdict.of(Kind.MODEL_NOT_FOUND, detail);
            case "validationexception":
                if (isContextTooLong(lower)) {
                    return UpstreamVerdict.of(Kind.CONTEXT_TOO_LONG, detail);
                }
                if (lower.contains("model identifier is invalid") || lower.contains("on-demand throughput")) {
                    // The target names a model this account cannot call as given: the route is wrong, not the client.
                    return UpstreamVerdict.of(Kind.MODEL_NOT_FOUND, detail);
                }
                return UpstreamVerdict.of(Kind.CLIENT_ERROR, detail);
            default:
                return byStatus(status, detail);
        }
    }

    /** Returns the failure an exception frame of a stream reports. */
    static StreamFailure streamFailure(String exceptionType, byte[] payload) {
        String message = message(parse(payload));
        UpstreamVerdict verdict = classify(exceptionType, 0, message);
        String text = message == null || message.isEmpty() ? "no message" : message;
        return new StreamFailure(verdict, "Bedrock reported " + (exceptionType == null ? "an error" : exceptionType)
                                          + " during the stream: " + safe(verdict, text));
    }

    /** Returns the client's error for an HTTP error answer classified as {@code verdict}. */
    static GatewayResponse.Full clientError(int status, Headers headers, byte[] body, UpstreamVerdict verdict) {
        JsonNode json = parse(body);
        String message = message(json);
        if (message == null || message.isEmpty()) {
            message = "The provider answered HTTP " + status + " without an error description (" + verdict.detail()
                      + ").";
        }
        message = safe(verdict, message);
        int clientStatus;
        String type;
        String code;
        switch (verdict.kind()) {
            case RATE_LIMITED:
                clientStatus = 429;
                type = "rate_limit_error";
                code = "rate_limit_exceeded";
                break;
            case QUOTA_EXHAUSTED:
                clientStatus = 429;
                type = "insufficient_quota";
                code = "insufficient_quota";
                break;
            case OVERLOADED:
                clientStatus = status == 429 ? 429 : 503; // ModelNotReadyException is a 429 that SDKs retry
                type = status == 429 ? "rate_limit_error" : "service_unavailable_error";
                code = "overloaded";
                break;
            case KEY_INVALID:
                // The client's own key was accepted by Detour: this is about the credentials Detour signed with.
                clientStatus = status == 401 || status == 403 ? status : 403;
                type = clientStatus == 401 ? "authentication_error" : "permission_error";
                code = "upstream_key_rejected";
                message = "The provider rejected the gateway's key (" + verdict.detail() + "): " + message;
                break;
            case MODEL_NOT_FOUND:
                clientStatus = 404;
                type = "not_found_error";
                code = "model_not_found";
                break;
            case CONTEXT_TOO_LONG:
                clientStatus = 400;
                type = "invalid_request_error";
                code = "context_length_exceeded";
                break;
            case CLIENT_ERROR:
                clientStatus = status >= 400 && status < 500 ? status : 400;
                type = "invalid_request_error";
                code = verdict.detail();
                break;
            case TIMEOUT:
                clientStatus = 504;
                type = "timeout_error";
                code = verdict.detail();
                break;
            default:
                clientStatus = 502;
                type = "upstream_error";
                code = verdict.detail();
                break;
        }
        Headers.Builder out = Headers.builder().add("content-type", "application/json");
        String requestId = headers.get("x-amzn-requestid");
        if (requestId != null) {
            out.add("x-detour-upstream-request-id", requestId);
        }
        return new GatewayResponse.Full(clientStatus, out.build(), ErrorResponses.body(type, message, code, null));
    }

    /** Returns the error's name: header first, body second, or {@code null}. */
    static String errorType(Headers headers, JsonNode body) {
        String header = headers.get("x-amzn-errortype");
        if (header != null && !header.isBlank()) {
            int colon = header.indexOf(':');
            return (colon >= 0 ? header.substring(0, colon) : header).trim();
        }
        String type = text(body, "__type");
        if (type == null) {
            type = text(body, "code");
        }
        if (type == null || type.isBlank()) {
            return null;
        }
        int hash = type.lastIndexOf('#');
        return hash >= 0 ? type.substring(hash + 1) : type;
    }

    private static UpstreamVerdict byStatus(int status, String detail) {
        switch (status) {
            case 429:
                return UpstreamVerdict.of(Kind.RATE_LIMITED, detail);
            case 401:
            case 403:
                return UpstreamVerdict.of(Kind.KEY_INVALID, detail);
            case 404:
                return UpstreamVerdict.of(Kind.MODEL_NOT_FOUND, detail);
            case 408:
                return UpstreamVerdict.of(Kind.TIMEOUT, detail);
            case 503:
                return UpstreamVerdict.of(Kind.OVERLOADED, detail);
            default:
                if (status >= 400 && status < 500) {
                    return UpstreamVerdict.of(Kind.CLIENT_ERROR, detail);
                }
                return UpstreamVerdict.of(Kind.SERVER_ERROR, detail);
        }
    }

    private static boolean isContextTooLong(String lower) {
        return lower.contains("input is too long") || lower.contains("too many input tokens")
               || lower.contains("prompt is too long") || lower.contains("context window")
               || lower.contains("context length") || lower.contains("maximum context");
    }

    /**
     * Keeps a key error's message to its first line: a signature mismatch goes on to print the canonical request,
     * which holds the signed headers' values, the session token among them.
     */
    private static String safe(UpstreamVerdict verdict, String message) {
        if (verdict.kind() != Kind.KEY_INVALID) {
            return message;
        }
        int cut = message.length();
        int newline = message.indexOf('\n');
        if (newline >= 0) {
            cut = newline;
        }
        int canonical = message.indexOf("The Canonical String");
        if (canonical >= 0) {
            cut = Math.min(cut, canonical);
        }
        return message.substring(0, cut).trim();
    }

    private static String message(JsonNode body) {
        String m = text(body, "message");
        return m != null ? m : text(body, "Message");
    }

    private static JsonNode parse(byte[] body) {
        if (body == null || body.length == 0) {
            return null;
        }
        try {
            JsonNode node = JSON.readTree(body);
            return node != null && node.isObject() ? node : null;
        } catch (IOException e) {
            return null; // an HTML page from a proxy: the status decides
        }
    }

    private static String text(JsonNode node, String field) {
        if (node == null) {
            return null;
        }
        JsonNode v = node.get(field);
        return v == null || !v.isValueNode() || v.isNull() ? null : v.asText();
    }
}
