package dev.detour.provider.azure;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.detour.api.Endpoint;
import dev.detour.config.ApiKeyConfig;
import dev.detour.config.ProviderConfig;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.provider.ProviderAdapter;
import dev.detour.provider.ResponseTranslator;
import dev.detour.provider.RetryHints;
import dev.detour.provider.StreamUsage;
import dev.detour.provider.UpstreamBody;
import dev.detour.provider.UpstreamRequest;
import dev.detour.provider.UpstreamVerdict;
import dev.detour.provider.UpstreamVerdict.Kind;
import dev.detour.provider.compat.ErrorAnswers;
import dev.detour.provider.compat.ProviderError;
import dev.detour.provider.compat.SseEventFilter;
import dev.detour.routing.Target;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The adapter for Azure OpenAI ({@code providers.md} §3). Bodies are OpenAI's and pass through byte for byte:
 * on the dated API the deployment in the path picks the model and Azure ignores the body's {@code model}.
 *
 * <ul>
 *   <li>Path: {@code {base}/deployments/{deployment}{/chat/completions|/completions|/embeddings}?api-version=V},
 *       the deployment being the target's {@code model}. With option {@code api-version: v1} the v1 API is used
 *       instead: {@code {base}/v1/chat/completions}, the deployment spliced into the body's {@code model}.</li>
 *   <li>Auth (option {@code auth}): {@code api-key} sends {@code api-key: <key>}; {@code bearer} sends
 *       {@code Authorization: Bearer <key>} (an Entra ID token). Config validation refuses other values; should
 *       one get here, it is treated as {@code api-key}, which reaches the same configured host.</li>
 *   <li>Streams go through {@link SseEventFilter} with {@link SseEventFilter.EmptyChunks#SKIP}: Azure's first
 *       chunk carries only prompt-filter results with {@code "choices": []}, which breaks clients that read
 *       {@code choices[0]} of every chunk (the Python idiom). Non-streamed answers pass through with Azure's
 *       extra {@code prompt_filter_results}/{@code content_filter_results} fields, which SDKs ignore.</li>
 *   <li>Stream usage: when someone needs a chat stream's usage and the client did not ask for it, Azure is asked
 *       ({@code stream_options.include_usage}) if the API version takes it ({@link #takesStreamOptions}: the v1
 *       API and dated versions from 2024-08-01 on; older ones refuse unknown fields), and the filter keeps that
 *       chunk from the client.</li>
 * </ul>
 *
 * <p>Classification follows §3 and §10: 429 is a rate limit unless its message is about quota; wait hints come
 * from {@code retry-after-ms}, {@code x-ms-retry-after-ms}, {@code retry-after}, then "retry after N seconds" in
 * the message; success headers {@code x-ratelimit-remaining-*: 0} with {@code x-ratelimit-reset-*} in integer
 * seconds cool a key before it is throttled. Stateless and thread-safe.
 */
public final class AzureAdapter implements ProviderAdapter {

    /** The shared instance. */
    public static final AzureAdapter INSTANCE = new AzureAdapter();

    /** The {@code api-version} value that selects the v1 API instead of a dated one. */
    public static final String V1 = "v1";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern DATE = Pattern.compile("\\d{4}-\\d{2}-\\d{2}");
    private static final String FIRST_WITH_STREAM_OPTIONS = "2024-08-01";
    private static final Pattern REPLENISHED_IN = Pattern.compile("(?i)replenished in (\\d+):(\\d{2}):(\\d{2})");

    private AzureAdapter() {
    }

    @Override
    public UpstreamRequest prepare(RequestContext ctx, Target target, ApiKeyConfig key) {
        ProviderConfig provider = target.provider();
        Headers.Builder headers = Headers.builder()
                .add("content-type", "application/json")
                .add("accept", ctx.stream() ? "text/event-stream" : "application/json")
                .add("x-request-id", ctx.requestId());
        if (!key.value().isEmpty()) {
            if ("bearer".equals(provider.option("auth"))) {
                headers.add("authorization", key.value().bearer());
            } else {
                headers.add("api-key", key.value().reveal());
            }
        }
        for (Map.Entry<String, String> h : provider.headers().entrySet()) {
            headers.add(h.getKey(), h.getValue());
        }
        String apiVersion = provider.option("api-version");
        String base = target.origin().basePath();
        String suffix = ctx.endpoint().upstreamSuffix();
        String path;
        UpstreamBody body = UpstreamBody.PASS_THROUGH;
        if (ctx.bodyReplaced()) {
            body = new UpstreamBody.Replace(ctx.attemptBodyBytes()); // the target's parameter overrides
        }
        if (V1.equals(apiVersion)) {
            path = base + "/v1" + suffix;
            if (!ctx.bodyReplaced() && !target.model().equals(ctx.sniffed().model())) {
                body = new UpstreamBody.Splice(ctx.sniffed().modelValueStart(), ctx.sniffed().modelValueEnd(),
                                               target.modelJson());
            }
        } else {
            path = base + "/deployments/" + pathSegment(target.model()) + suffix + "?api-version="
                   + URLEncoder.encode(apiVersion == null ? "" : apiVersion, StandardCharsets.UTF_8);
        }
        boolean askUsage = ctx.endpoint() == Endpoint.CHAT_COMPLETIONS && takesStreamOptions(apiVersion)
                           && StreamUsage.wanted(ctx);
        if (askUsage) {
            body = StreamUsage.withIncludeUsage(ctx, body);
        }
        ResponseTranslator translator = null;
        if (ctx.stream()) {
            translator = askUsage
                    ? SseEventFilter.newFilter(SseEventFilter.EmptyChunks.SKIP, this::classifyInBand, ctx.usage())
                    : SseEventFilter.newFilter(SseEventFilter.EmptyChunks.SKIP, this::classifyInBand);
        }
        return new UpstreamRequest(target, key, ctx.endpoint(), path, headers.build(), body, ctx.stream(),
                                   ctx.route().timeouts(), translator);
    }

    /**
     * Returns whether API version {@code apiVersion} accepts {@code stream_options}: the v1 API, and dated
     * versions ({@code 2024-10-21}, {@code 2025-01-01-preview}) from {@code 2024-08-01} on, where Azure added it.
     */
    static boolean takesStreamOptions(String apiVersion) {
        if (V1.equals(apiVersion)) {
            return true;
        }
        if (apiVersion == null || apiVersion.length() < 10 || !DATE.matcher(apiVersion.substring(0, 10)).matches()) {
            return false; // a version this adapter cannot read: do not risk a refused field
        }
        return apiVersion.substring(0, 10).compareTo(FIRST_WITH_STREAM_OPTIONS) >= 0;
    }

    @Override
    public UpstreamVerdict classify(int status, Headers headers, byte[] body, Instant now) {
        if (status < 400) {
            return classifySuccess(headers);
        }
        ProviderError error = ProviderError.parse(body).orElse(null);
        String code = error == null ? null : error.code();
        switch (status) {
            case 429:
                if (isQuota(error, code)) {
                    return new UpstreamVerdict(Kind.QUOTA_EXHAUSTED, quotaHint(headers, error, now), "quota_exhausted");
                }
                return new UpstreamVerdict(Kind.RATE_LIMITED, rateLimitHint(headers, error, now),
                                           code == null || "429".equals(code) ? "rate_limited" : code);
            case 403:
                if (isQuota(error, code)) {
                    return new UpstreamVerdict(Kind.QUOTA_EXHAUSTED, quotaHint(headers, error, now), "quota_exhausted");
                }
                return UpstreamVerdict.of(Kind.KEY_INVALID, code == null ? "forbidden" : code);
            case 401:
                return UpstreamVerdict.of(Kind.KEY_INVALID, code == null ? "unauthorized" : code);
            case 400:
            case 413:
                if ("content_filter".equals(code)) {
                    return UpstreamVerdict.of(Kind.CLIENT_ERROR, "content_filter");
                }
                if ("context_length_exceeded".equals(code)
                    || error != null && error.mentions("maximum context length")) {
                    return UpstreamVerdict.of(Kind.CONTEXT_TOO_LONG, "context_length_exceeded");
                }
                return UpstreamVerdict.of(Kind.CLIENT_ERROR, code == null ? "bad_request" : code);
            case 404:
                // DeploymentNotFound, or a base URL / api-version this resource does not serve.
                return UpstreamVerdict.of(Kind.MODEL_NOT_FOUND, code == null ? "not_found" : code);
            case 408:
                return UpstreamVerdict.of(Kind.TIMEOUT, "request_timeout");
            case 503:
                return new UpstreamVerdict(Kind.OVERLOADED, RetryHints.retryAfter(headers, now),
                                           code == null ? "service_unavailable" : code);
            default:
                if (status >= 500) {
                    return UpstreamVerdict.of(Kind.SERVER_ERROR, "status_" + status);
                }
                return UpstreamVerdict.of(Kind.CLIENT_ERROR, code == null ? "status_" + status : code);
        }
    }

    @Override
    public GatewayResponse.Full clientError(int status, Headers headers, byte[] body, UpstreamVerdict verdict) {
        return ErrorAnswers.of(status, headers, body, verdict);
    }

    /**
     * Reads a successful answer's limits: Azure's {@code x-ratelimit-reset-*} are integer seconds (Go durations
     * are accepted too). Some paths send {@code 0} or {@code -1} placeholders, so only a positive reset of a bucket
     * whose remaining count is exactly 0 cools the key; without a reset nothing is guessed.
     */
    static UpstreamVerdict classifySuccess(Headers headers) {
        long wait = UpstreamVerdict.NO_HINT;
        if ("0".equals(headers.get("x-ratelimit-remaining-requests"))) {
            wait = Math.max(wait, resetNanos(headers.get("x-ratelimit-reset-requests")));
        }
        if ("0".equals(headers.get("x-ratelimit-remaining-tokens"))) {
            wait = Math.max(wait, resetNanos(headers.get("x-ratelimit-reset-tokens")));
        }
        return wait <= 0 ? UpstreamVerdict.OK : new UpstreamVerdict(Kind.SUCCESS, wait, "remaining_0");
    }

    private static boolean isQuota(ProviderError error, String code) {
        if ("insufficient_quota".equals(code)) {
            return true;
        }
        // "Out of call volume quota", "exceeded ... quota": quota. "exceeded token rate limit": a window.
        return error != null && error.mentions("quota") && !error.mentions("rate limit");
    }

    private static long rateLimitHint(Headers headers, ProviderError error, Instant now) {
        long hint = RetryHints.retryAfter(headers, now);
        if (hint < 0 && error != null) {
            hint = RetryHints.fromMessage(error.message());
        }
        if (hint < 0) {
            UpstreamVerdict proactive = classifySuccess(headers);
            hint = proactive.waitNanos();
        }
        return hint;
    }

    private static long quotaHint(Headers headers, ProviderError error, Instant now) {
        long hint = RetryHints.retryAfter(headers, now);
        if (hint >= 0 || error == null) {
            return hint;
        }
        Matcher m = REPLENISHED_IN.matcher(error.message());
        if (!m.find()) {
            return UpstreamVerdict.NO_HINT;
        }
        long seconds = Long.parseLong(m.group(1)) * 3600 + Long.parseLong(m.group(2)) * 60 + Long.parseLong(m.group(3));
        return seconds * 1_000_000_000L;
    }

    private static long resetNanos(String value) {
        if (value == null) {
            return UpstreamVerdict.NO_HINT;
        }
        String v = value.trim();
        long nanos = RetryHints.seconds(v);
        return nanos >= 0 ? nanos : RetryHints.goDuration(v);
    }

    /** Classifies an error event inside a stream: by its code, as if it had been the answer's status. */
    private UpstreamVerdict classifyInBand(JsonNode error) {
        String code = error.isObject() ? error.path("code").asText("") : "";
        int status = 500;
        if ("content_filter".equals(code)) {
            status = 400;
        } else if (code.length() == 3 && code.chars().allMatch(Character::isDigit)) {
            status = Integer.parseInt(code);
        }
        ObjectNode envelope = JSON.createObjectNode();
        envelope.set("error", error);
        try {
            return classify(status, Headers.empty(), JSON.writeValueAsBytes(envelope), Instant.EPOCH);
        } catch (JsonProcessingException e) {
            return UpstreamVerdict.of(Kind.SERVER_ERROR, "stream_error");
        }
    }

    /** Returns {@code segment} percent-encoded for a path; deployment names are usually already safe. */
    static String pathSegment(String segment) {
        for (int i = 0; i < segment.length(); i++) {
            char c = segment.charAt(i);
            boolean unreserved = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                                 || c == '-' || c == '_' || c == '.' || c == '~';
            if (!unreserved) {
                return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
            }
        }
        return segment;
    }
}
