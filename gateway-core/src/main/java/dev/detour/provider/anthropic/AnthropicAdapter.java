package dev.detour.provider.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import dev.detour.api.Endpoint;
import dev.detour.api.InvalidRequestException;
import dev.detour.config.ApiKeyConfig;
import dev.detour.config.ProviderConfig;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.provider.ProviderAdapter;
import dev.detour.provider.RetryHints;
import dev.detour.provider.UpstreamBody;
import dev.detour.provider.UpstreamRequest;
import dev.detour.provider.UpstreamVerdict;
import dev.detour.provider.UpstreamVerdict.Kind;
import dev.detour.routing.Target;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Instant;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The adapter for Anthropic's Messages API ({@code providers.md} §4, §9.1–§9.3, §10): chat and legacy completion
 * requests become {@code POST {base}/messages}, and answers, streams and errors come back in OpenAI's shapes.
 *
 * <p>Classification reads the body first ({@code error.type}, {@code error.details.error_code}, the message), the
 * status second. Rate-limit waits come from {@code retry-after}, else from the earliest
 * {@code anthropic-ratelimit-*-reset} of an exhausted bucket. Anthropic has no embeddings endpoint: such requests
 * are refused with a 400.
 *
 * <p>Stateless and thread-safe; each {@link #prepare} creates a new translator for its exchange.
 */
public final class AnthropicAdapter implements ProviderAdapter {

    /** The shared instance, stamping answers with the system clock. */
    public static final AnthropicAdapter INSTANCE = new AnthropicAdapter(Clock.systemUTC());

    private final Clock clock;

    private AnthropicAdapter(Clock clock) {
        this.clock = clock;
    }

    /** Returns an adapter that reads the {@code created} time of translated answers from {@code clock}. */
    public static AnthropicAdapter of(Clock clock) {
        return new AnthropicAdapter(Objects.requireNonNull(clock, "clock"));
    }

    @Override
    public UpstreamRequest prepare(RequestContext ctx, Target target, ApiKeyConfig key) throws InvalidRequestException {
        ProviderConfig provider = target.provider();
        Endpoint endpoint = ctx.endpoint();
        if (endpoint == Endpoint.EMBEDDINGS) {
            throw new InvalidRequestException("provider '" + provider.name() + "' (anthropic) has no embeddings "
                                              + "endpoint; route this model to a provider that has one.",
                                              "model", "unsupported_endpoint");
        }
        JsonNode request = read(ctx);
        RequestTranslator translator = new RequestTranslator(provider.name(), target.model(),
                                                             RequestTranslator.defaultMaxTokens(target.modelInfo()));
        RequestTranslator.Translation translation = endpoint == Endpoint.COMPLETIONS
                ? translator.completion(request, ctx.stream())
                : translator.chat(request, ctx.stream());
        OpenAiWriter.Shape shape = endpoint == Endpoint.COMPLETIONS ? OpenAiWriter.Shape.TEXT : OpenAiWriter.Shape.CHAT;
        return new UpstreamRequest(target, key, endpoint, target.origin().basePath() + "/messages",
                                   headers(provider, key, ctx.stream()), new UpstreamBody.Replace(translation.body()),
                                   ctx.stream(), ctx.route().timeouts(),
                                   new MessagesTranslator(shape, translation.includeUsage(), clock, ctx.sniffed().model(),
                                                          ctx.usageSink()));
    }

    @Override
    public UpstreamVerdict classify(int status, Headers headers, byte[] body, Instant now) {
        if (status < 400) {
            long wait = RateLimits.exhaustedReset(headers, now);
            return wait < 0 ? UpstreamVerdict.OK : new UpstreamVerdict(Kind.SUCCESS, wait, "remaining_0");
        }
        ErrorBody error = ErrorBody.parse(body);
        String type = error.type();
        if (status == 402 || "billing_error".equals(type)) {
            return UpstreamVerdict.of(Kind.QUOTA_EXHAUSTED, "billing_error");
        }
        if (status == 429 || "rate_limit_error".equals(type)) {
            if ("enforced_spend_limit_reached".equals(error.errorCode())) {
                // A tier's monthly spend cap: nothing until 00:00 UTC on the 1st of next month.
                return new UpstreamVerdict(Kind.QUOTA_EXHAUSTED, RateLimits.untilNextMonthUtc(now),
                                           "enforced_spend_limit_reached");
            }
            long hint = RetryHints.retryAfter(headers, now);
            return new UpstreamVerdict(Kind.RATE_LIMITED, hint >= 0 ? hint : RateLimits.exhaustedReset(headers, now),
                                       "rate_limit_error");
        }
        if (error.saysCreditOrSpendIsGone()) {
            return UpstreamVerdict.of(Kind.QUOTA_EXHAUSTED, "credit_balance_too_low");
        }
        if (status == 529 || status == 503 || "overloaded_error".equals(type)) {
            return new UpstreamVerdict(Kind.OVERLOADED, RetryHints.retryAfter(headers, now), "overloaded_error");
        }
        switch (status) {
            case 400:
            case 413:
                if (error.saysPromptIsTooLong()) {
                    return UpstreamVerdict.of(Kind.CONTEXT_TOO_LONG, "prompt_too_long");
                }
                return UpstreamVerdict.of(Kind.CLIENT_ERROR, type == null ? "status_" + status : type);
            case 401:
            case 403:
                return UpstreamVerdict.of(Kind.KEY_INVALID, type == null ? "status_" + status : type);
            case 404:
                return UpstreamVerdict.of(Kind.MODEL_NOT_FOUND, type == null ? "not_found_error" : type);
            case 408:
            case 409:
                // Anthropic's own SDKs retry these: the request itself was fine.
                return UpstreamVerdict.of(Kind.SERVER_ERROR, "status_" + status);
            default:
                if (status >= 500) {
                    return UpstreamVerdict.of(Kind.SERVER_ERROR, type == null ? "status_" + status : type);
                }
                return UpstreamVerdict.of(Kind.CLIENT_ERROR, type == null ? "status_" + status : type);
        }
    }

    @Override
    public GatewayResponse.Full clientError(int status, Headers headers, byte[] body, UpstreamVerdict verdict) {
        ErrorBody error = ErrorBody.parse(body);
        String message = error.message() != null && !error.message().isEmpty()
                ? error.message()
                : "The provider answered HTTP " + status + " without an error description (" + verdict.detail() + ").";
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
                clientStatus = status;
                type = "insufficient_quota";
                code = "insufficient_quota";
                break;
            case OVERLOADED:
                clientStatus = 503; // 529 is Anthropic's own; OpenAI clients know 503
                type = "service_unavailable_error";
                code = "overloaded";
                break;
            case KEY_INVALID:
                // The client's own key was accepted by Detour: this is about the key Detour sent upstream.
                clientStatus = status;
                type = status == 403 ? "permission_error" : "authentication_error";
                code = "upstream_key_rejected";
                message = "The provider rejected the gateway's key (HTTP " + status + "): " + message;
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
                clientStatus = status;
                type = "invalid_request_error";
                code = error.type();
                break;
            default:
                clientStatus = 502;
                type = "upstream_error";
                code = verdict.detail();
                break;
        }
        Headers.Builder out = Headers.builder().add("content-type", "application/json");
        String retryAfter = headers.get("retry-after");
        if (retryAfter != null && (clientStatus == 429 || clientStatus == 503)) {
            out.add("retry-after", retryAfter);
        }
        String requestId = headers.get("request-id") != null ? headers.get("request-id") : error.requestId();
        if (requestId != null) {
            out.add("x-detour-upstream-request-id", requestId);
        }
        return new GatewayResponse.Full(clientStatus, out.build(), ErrorResponses.body(type, message, code, null));
    }

    /** Returns how an Anthropic {@code error.type} is classified when no status tells more (stream errors). */
    static Kind kindOfErrorType(String type) {
        switch (type) {
            case "overloaded_error":
                return Kind.OVERLOADED;
            case "rate_limit_error":
                return Kind.RATE_LIMITED;
            case "billing_error":
                return Kind.QUOTA_EXHAUSTED;
            case "authentication_error":
            case "permission_error":
                return Kind.KEY_INVALID;
            case "not_found_error":
                return Kind.MODEL_NOT_FOUND;
            case "invalid_request_error":
            case "request_too_large":
                return Kind.CLIENT_ERROR;
            default:
                return Kind.SERVER_ERROR; // api_error, timeout_error and types added later
        }
    }

    private static JsonNode read(RequestContext ctx) throws InvalidRequestException {
        try (InputStream in = ctx.body().newInputStream()) {
            JsonNode root = MessagesTranslator.JSON.readTree(in);
            if (root == null || !root.isObject()) {
                throw new InvalidRequestException("The request body must be a JSON object.", null, "invalid_json");
            }
            return root;
        } catch (IOException e) {
            throw new InvalidRequestException("The request body is not valid JSON.", null, "invalid_json");
        }
    }

    private static Headers headers(ProviderConfig provider, ApiKeyConfig key, boolean stream) {
        Set<String> overridden = new HashSet<>();
        for (String name : provider.headers().keySet()) {
            overridden.add(name.toLowerCase(Locale.ROOT));
        }
        Headers.Builder headers = Headers.builder();
        addUnlessOverridden(headers, overridden, "content-type", "application/json");
        addUnlessOverridden(headers, overridden, "accept", stream ? "text/event-stream" : "application/json");
        addUnlessOverridden(headers, overridden, "anthropic-version", provider.option("version"));
        if (!key.value().isEmpty()) {
            addUnlessOverridden(headers, overridden, "x-api-key", key.value().reveal());
        }
        for (Map.Entry<String, String> h : provider.headers().entrySet()) {
            headers.add(h.getKey(), h.getValue());
        }
        return headers.build();
    }

    private static void addUnlessOverridden(Headers.Builder headers, Set<String> overridden, String name,
                                            String value) {
        if (!overridden.contains(name)) {
            headers.add(name, value);
        }
    }

    /** The parts of an Anthropic error body that classification reads; every field may be {@code null}. */
    private record ErrorBody(String type, String message, String errorCode, String requestId) {

        private static final ErrorBody NONE = new ErrorBody(null, null, null, null);

        static ErrorBody parse(byte[] body) {
            if (body.length == 0) {
                return NONE;
            }
            try {
                JsonNode root = MessagesTranslator.JSON.readTree(body);
                JsonNode error = root == null ? null : root.get("error");
                if (error == null || !error.isObject()) {
                    return NONE;
                }
                return new ErrorBody(text(error.get("type")), text(error.get("message")),
                                     text(error.path("details").get("error_code")), text(root.get("request_id")));
            } catch (IOException e) {
                return NONE; // an HTML page from an edge proxy: classified by status alone
            }
        }

        boolean saysCreditOrSpendIsGone() {
            String m = lowerMessage();
            return m.contains("credit balance is too low") || m.contains("spend limit")
                   || m.contains("usage limits");
        }

        boolean saysPromptIsTooLong() {
            String m = lowerMessage();
            // The second form: models since Claude 3.7 refuse prompt + max_tokens over the window.
            return m.contains("prompt is too long") || m.contains("exceed context limit");
        }

        private String lowerMessage() {
            return message == null ? "" : message.toLowerCase(Locale.ROOT);
        }

        private static String text(JsonNode node) {
            return node == null || node.isNull() || !node.isValueNode() ? null : node.asText();
        }
    }
}
