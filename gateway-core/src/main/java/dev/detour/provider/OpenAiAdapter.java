package dev.detour.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.config.ApiKeyConfig;
import dev.detour.config.ProviderConfig;
import dev.detour.config.ProviderType;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.routing.Target;
import java.io.IOException;
import java.time.Instant;
import java.util.Map;

/**
 * The adapter for OpenAI and every host that speaks its API: the body passes through byte for byte,
 * with only the {@code model} value spliced when the route maps it to another name; answers pass
 * through untranslated.
 *
 * <p>Classification follows {@code providers.md} §2.7, §2.8 and §10: the body's {@code error.code}
 * first, the status second. Stateless and thread-safe.
 */
public final class OpenAiAdapter implements ProviderAdapter {

    /** The shared instance. */
    public static final OpenAiAdapter INSTANCE = new OpenAiAdapter();

    private static final ObjectMapper JSON = new ObjectMapper();

    private OpenAiAdapter() {
    }

    @Override
    public UpstreamRequest prepare(RequestContext ctx, Target target, ApiKeyConfig key) {
        ProviderConfig provider = target.provider();
        Headers.Builder headers = Headers.builder()
                .add("content-type", "application/json")
                .add("accept", ctx.stream() ? "text/event-stream" : "application/json")
                .add("x-request-id", ctx.requestId());
        if (!key.value().isEmpty()) {
            headers.add("authorization", key.value().bearer());
        }
        for (Map.Entry<String, String> h : provider.headers().entrySet()) {
            headers.add(h.getKey(), h.getValue());
        }
        UpstreamBody body = UpstreamBody.PASS_THROUGH;
        if (ctx.bodyReplaced()) {
            body = new UpstreamBody.Replace(ctx.attemptBodyBytes());
        } else if (!target.model().equals(ctx.sniffed().model())) {
            body = new UpstreamBody.Splice(ctx.sniffed().modelValueStart(), ctx.sniffed().modelValueEnd(),
                                           target.modelJson());
        }
        ResponseTranslator translator = null;
        if (askForUsage(ctx, target)) {
            // Ask the provider to report the stream's usage, and keep that extra chunk from the client.
            body = StreamUsage.withIncludeUsage(ctx, body);
            translator = new UsageChunkFilter(ctx.usage());
        }
        String path = target.origin().basePath() + ctx.endpoint().upstreamSuffix();
        return new UpstreamRequest(target, key, ctx.endpoint(), path, headers.build(), body, ctx.stream(),
                                   ctx.route().timeouts(), translator);
    }

    /**
     * Returns whether to ask the provider for a stream's usage the client did not ask for: only when
     * someone needs it ({@link StreamUsage#wanted}), and for hosts known to take {@code stream_options}
     * (OpenAI itself and the mock; the OpenAI-compatible presets decide for themselves).
     */
    private static boolean askForUsage(RequestContext ctx, Target target) {
        ProviderType type = target.provider().type();
        return (type == ProviderType.OPENAI || type == ProviderType.MOCK) && StreamUsage.wanted(ctx);
    }

    @Override
    public UpstreamVerdict classify(int status, Headers headers, byte[] body, Instant now) {
        if (status < 400) {
            return classifySuccess(headers);
        }
        JsonNode error = errorOf(body);
        String code = text(error, "code");
        String type = text(error, "type");
        String message = text(error, "message");
        if (status == 429) {
            if ("insufficient_quota".equals(code) || "insufficient_quota".equals(type)
                || "credit_balance_exhausted".equals(code)) {
                return UpstreamVerdict.of(UpstreamVerdict.Kind.QUOTA_EXHAUSTED, code == null ? type : code);
            }
            if (message != null && message.startsWith("Request too large")) {
                return UpstreamVerdict.of(UpstreamVerdict.Kind.TOO_LARGE_FOR_POOL, "request_too_large_for_limit");
            }
            return new UpstreamVerdict(UpstreamVerdict.Kind.RATE_LIMITED, rateLimitHint(headers, message, now),
                                       code == null ? "rate_limited" : code);
        }
        switch (status) {
            case 400:
            case 413:
                if ("context_length_exceeded".equals(code)) {
                    return UpstreamVerdict.of(UpstreamVerdict.Kind.CONTEXT_TOO_LONG, code);
                }
                return UpstreamVerdict.of(UpstreamVerdict.Kind.CLIENT_ERROR, code == null ? "bad_request" : code);
            case 401:
            case 403:
                return UpstreamVerdict.of(UpstreamVerdict.Kind.KEY_INVALID, code == null ? "status_" + status : code);
            case 402:
                return UpstreamVerdict.of(UpstreamVerdict.Kind.QUOTA_EXHAUSTED, "payment_required");
            case 404:
                return UpstreamVerdict.of(UpstreamVerdict.Kind.MODEL_NOT_FOUND, code == null ? "not_found" : code);
            case 503:
            case 529:
                return new UpstreamVerdict(UpstreamVerdict.Kind.OVERLOADED, RetryHints.retryAfter(headers, now),
                                           code == null ? "overloaded" : code);
            default:
                if (status >= 500) {
                    return UpstreamVerdict.of(UpstreamVerdict.Kind.SERVER_ERROR, "status_" + status);
                }
                return UpstreamVerdict.of(UpstreamVerdict.Kind.CLIENT_ERROR, code == null ? "status_" + status : code);
        }
    }

    @Override
    public GatewayResponse.Full clientError(int status, Headers headers, byte[] body, UpstreamVerdict verdict) {
        JsonNode error = errorOf(body);
        if (error != null && status != 401 && status != 403) {
            return new GatewayResponse.Full(status, headers, body); // already OpenAI's envelope
        }
        if (error != null) {
            // A rejected key: the provider's message often quotes part of the gateway's key.
            String said = KeyRedaction.redact(error.path("message").asText(""));
            byte[] json = ErrorResponses.body(error.path("type").asText("invalid_request_error"),
                    "The provider rejected the gateway's key (HTTP " + status + "): " + said,
                    error.path("code").isNull() ? null : error.path("code").asText(null), null);
            return new GatewayResponse.Full(status, Headers.of("content-type", "application/json"), json);
        }
        // An HTML page from a proxy, an empty body: say what happened without relaying it.
        String type = status >= 500 ? "upstream_error" : status == 429 ? "rate_limit_error" : "invalid_request_error";
        byte[] json = ErrorResponses.body(type, "The provider answered HTTP " + status + " without an error "
                                                + "description (" + verdict.detail() + ").", verdict.detail(), null);
        // Keep what helps the client (retry-after, rate-limit headers); only the body's type changes.
        Headers.Builder kept = Headers.builder();
        for (int i = 0; i < headers.size(); i++) {
            String name = headers.name(i);
            if (!name.equalsIgnoreCase("content-type") && !name.equalsIgnoreCase("content-encoding")) {
                kept.add(name, headers.value(i));
            }
        }
        kept.add("content-type", "application/json");
        return new GatewayResponse.Full(status, kept.build(), json);
    }

    /**
     * Reads a successful answer's rate-limit headers: when a bucket reports {@code remaining: 0}, the
     * key should cool until that bucket's reset, before the upstream starts answering 429.
     */
    private static UpstreamVerdict classifySuccess(Headers headers) {
        long wait = UpstreamVerdict.NO_HINT;
        if ("0".equals(headers.get("x-ratelimit-remaining-requests"))) {
            wait = Math.max(wait, RetryHints.goDuration(headers.get("x-ratelimit-reset-requests")));
        }
        if ("0".equals(headers.get("x-ratelimit-remaining-tokens"))) {
            wait = Math.max(wait, RetryHints.goDuration(headers.get("x-ratelimit-reset-tokens")));
        }
        return wait < 0 ? UpstreamVerdict.OK : new UpstreamVerdict(UpstreamVerdict.Kind.SUCCESS, wait, "remaining_0");
    }

    private static long rateLimitHint(Headers headers, String message, Instant now) {
        long hint = RetryHints.retryAfter(headers, now);
        if (hint >= 0) {
            return hint;
        }
        long reset = UpstreamVerdict.NO_HINT;
        if ("0".equals(headers.get("x-ratelimit-remaining-requests"))) {
            reset = Math.max(reset, RetryHints.goDuration(headers.get("x-ratelimit-reset-requests")));
        }
        if ("0".equals(headers.get("x-ratelimit-remaining-tokens"))) {
            reset = Math.max(reset, RetryHints.goDuration(headers.get("x-ratelimit-reset-tokens")));
        }
        if (reset >= 0) {
            return reset;
        }
        return RetryHints.fromMessage(message);
    }

    /** Returns the {@code error} object of an OpenAI error body, or {@code null} when it has none. */
    static JsonNode errorOf(byte[] body) {
        if (body.length == 0) {
            return null;
        }
        try {
            JsonNode root = JSON.readTree(body);
            JsonNode error = root == null ? null : root.get("error");
            return error != null && error.isObject() ? error : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static String text(JsonNode node, String field) {
        if (node == null) {
            return null;
        }
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
