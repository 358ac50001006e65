package dev.detour.provider.compat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.detour.api.Endpoint;
import dev.detour.api.InvalidRequestException;
import dev.detour.config.ApiKeyConfig;
import dev.detour.config.ProviderType;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.provider.OpenAiAdapter;
import dev.detour.provider.ProviderAdapter;
import dev.detour.provider.ResponseTranslator;
import dev.detour.provider.RetryHints;
import dev.detour.provider.StreamUsage;
import dev.detour.provider.UpstreamBody;
import dev.detour.provider.UpstreamRequest;
import dev.detour.provider.UpstreamVerdict;
import dev.detour.provider.UpstreamVerdict.Kind;
import dev.detour.provider.UsageChunkFilter;
import dev.detour.routing.Target;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The adapter of the OpenAI-compatible presets ({@code mistral}, {@code groq}, {@code openrouter}, ...): OpenAI's
 * pass-through ({@link OpenAiAdapter}) plus each host's documented quirks ({@code providers.md} §6, §10).
 *
 * <p>Requests: the body is rewritten ({@link UpstreamBody.Replace}) only for hosts with refused fields (Mistral,
 * Groq) and only when a one-pass scan of the body finds one of those keys; otherwise it passes through (or is
 * spliced for the model name) exactly as for {@code openai}. OpenRouter streams get an {@link SseEventFilter} so
 * that an error reported before any content can still fail over.
 *
 * <p>Stream usage: when someone needs a stream's usage and the client did not ask for it, the hosts documented to
 * take {@code stream_options} ({@link #ASKS_FOR_STREAM_USAGE}) are asked for it, and its chunk is kept from the
 * client. The others are not asked: Mistral, Groq ({@code x_groq.usage}), Fireworks and OpenRouter put the usage
 * in their last chunk anyway, where the server reads it as it passes; for a host that sends none, the usage stays
 * unknown (a token limit keeps its estimate) rather than risk a host refusing a field it does not know.
 *
 * <p>Answers: errors are read in every shape these hosts use ({@link ProviderError}) and classified with the
 * host's own signals first (Groq's per-day buckets, Mistral's {@code rate_limited}, OpenRouter's and DeepSeek's
 * 402, ...), then by common message patterns, then as OpenAI would. Stateless and thread-safe; one instance per
 * preset.
 */
public final class OpenAiCompatibleAdapter implements ProviderAdapter {

    /** Mistral resets its per-minute buckets within a minute; it sends no reset header, so this is the bound. */
    static final long MINUTE_NANOS = 60_000_000_000L;

    private static final byte[] NO_BODY = new byte[0];
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .setNodeFactory(JsonNodeFactory.withExactBigDecimals(true));
    private static final Pattern GO_DURATION_IN_MESSAGE = Pattern.compile(
            "(?i)try again in\\s+((?:\\d+(?:\\.\\d+)?(?:h|ms|m|s|us|µs|ns))+)");
    /**
     * The presets whose API documents {@code stream_options.include_usage} for chat streams: DeepSeek
     * (api-docs.deepseek.com), vLLM ({@code providers.md} §6) and Ollama ({@code docs/openai.md}).
     */
    static final Set<ProviderType> ASKS_FOR_STREAM_USAGE =
            Collections.unmodifiableSet(EnumSet.of(ProviderType.DEEPSEEK, ProviderType.VLLM, ProviderType.OLLAMA));
    private static final Map<ProviderType, OpenAiCompatibleAdapter> PRESETS = presets();

    private final ProviderType type;
    private final BodyQuirks quirks;
    private final boolean filterStreams;
    private final boolean asksForStreamUsage;

    private OpenAiCompatibleAdapter(ProviderType type, BodyQuirks quirks, boolean filterStreams) {
        this.type = type;
        this.quirks = quirks;
        this.filterStreams = filterStreams;
        this.asksForStreamUsage = ASKS_FOR_STREAM_USAGE.contains(type);
    }

    /**
     * Returns the adapter of {@code type}: this adapter for an OpenAI-compatible preset, {@link OpenAiAdapter}
     * for {@code openai} itself and for every other type of the OpenAI dialect.
     */
    public static ProviderAdapter of(ProviderType type) {
        ProviderAdapter preset = PRESETS.get(type);
        return preset != null ? preset : OpenAiAdapter.INSTANCE;
    }

    /** Returns the preset this adapter serves. */
    public ProviderType type() {
        return type;
    }

    @Override
    public UpstreamRequest prepare(RequestContext ctx, Target target, ApiKeyConfig key) throws InvalidRequestException {
        UpstreamRequest base = OpenAiAdapter.INSTANCE.prepare(ctx, target, key);
        UpstreamBody body = base.body();
        if (quirks != null && ctx.endpoint() == Endpoint.CHAT_COMPLETIONS
            && quirks.triggers().matches(ctx.body().newInputStream())) {
            ObjectNode tree = parse(ctx);
            if (tree != null && quirks.apply(tree, target.provider().name())) {
                tree.put("model", target.model());
                body = new UpstreamBody.Replace(write(tree));
            }
        }
        boolean askUsage = asksForStreamUsage && ctx.endpoint() == Endpoint.CHAT_COMPLETIONS
                           && StreamUsage.wanted(ctx);
        if (askUsage) {
            body = StreamUsage.withIncludeUsage(ctx, body);
        }
        ResponseTranslator translator = null;
        if (filterStreams && base.stream()) {
            translator = askUsage
                    ? SseEventFilter.newFilter(SseEventFilter.EmptyChunks.KEEP, this::classifyInBand, ctx.usage())
                    : SseEventFilter.newFilter(SseEventFilter.EmptyChunks.KEEP, this::classifyInBand);
        } else if (askUsage) {
            translator = new UsageChunkFilter(ctx.usage());
        }
        if (body == base.body() && translator == null) {
            return base;
        }
        return new UpstreamRequest(base.target(), base.key(), base.endpoint(), base.path(), base.headers(), body,
                                   base.stream(), base.timeouts(), translator);
    }

    @Override
    public UpstreamVerdict classify(int status, Headers headers, byte[] body, Instant now) {
        if (status < 400) {
            return classifySuccess(headers);
        }
        ProviderError error = ProviderError.parse(body).orElse(null);
        UpstreamVerdict verdict = classifyPreset(status, headers, error, now);
        if (verdict == null) {
            verdict = classifyCommon(status, error);
        }
        if (verdict != null) {
            return verdict;
        }
        byte[] envelope = error == null || error.standard() ? body : error.toEnvelope("error");
        return OpenAiAdapter.INSTANCE.classify(status, headers, envelope, now);
    }

    @Override
    public GatewayResponse.Full clientError(int status, Headers headers, byte[] body, UpstreamVerdict verdict) {
        return ErrorAnswers.of(status, headers, body, verdict);
    }

    @Override
    public String toString() {
        return "OpenAiCompatibleAdapter[" + type.yamlName() + "]";
    }

    private UpstreamVerdict classifySuccess(Headers headers) {
        if (type == ProviderType.MISTRAL
            && ("0".equals(headers.get("x-ratelimit-remaining-req-minute"))
                || "0".equals(headers.get("x-ratelimit-remaining-tokens-minute")))) {
            return new UpstreamVerdict(Kind.SUCCESS, MINUTE_NANOS, "remaining_0");
        }
        return OpenAiAdapter.INSTANCE.classify(200, headers, NO_BODY, Instant.EPOCH);
    }

    /** The host's own signals; {@code null} when it has no opinion. */
    private UpstreamVerdict classifyPreset(int status, Headers headers, ProviderError error, Instant now) {
        switch (type) {
            case GROQ:
                return classifyGroq(status, headers, error, now);
            case MISTRAL:
                return classifyMistral(status, headers, error, now);
            case OPENROUTER:
                return classifyOpenRouter(status, headers, error, now);
            case DEEPSEEK:
                return status == 402 ? UpstreamVerdict.of(Kind.QUOTA_EXHAUSTED, "insufficient_balance") : null;
            default:
                return null;
        }
    }

    /**
     * Groq: {@code x-ratelimit-*-requests} count per <em>day</em> and {@code *-tokens} per minute; a 429 on a
     * daily bucket (remaining requests 0, or a message naming RPD/TPD) is quota until the reset, not a short wait.
     * Resets and messages use Go durations ({@code 2m59.56s}). 498 is flex-tier capacity.
     */
    private static UpstreamVerdict classifyGroq(int status, Headers headers, ProviderError error, Instant now) {
        if (status == 498) {
            return new UpstreamVerdict(Kind.OVERLOADED, RetryHints.retryAfter(headers, now),
                                       "flex_tier_capacity_exceeded");
        }
        if (status != 429 || error != null && error.message().startsWith("Request too large")) {
            return null;
        }
        String message = error == null ? null : error.message();
        boolean requestsGone = "0".equals(headers.get("x-ratelimit-remaining-requests"));
        boolean daily = requestsGone || error != null && (error.mentions("(RPD)") || error.mentions("(TPD)")
                                                          || error.mentions("per day"));
        long hint = RetryHints.retryAfter(headers, now);
        if (hint < 0 && requestsGone) {
            hint = RetryHints.goDuration(headers.get("x-ratelimit-reset-requests"));
        }
        if (hint < 0 && !daily && "0".equals(headers.get("x-ratelimit-remaining-tokens"))) {
            hint = RetryHints.goDuration(headers.get("x-ratelimit-reset-tokens"));
        }
        if (hint < 0) {
            hint = goDurationInMessage(message);
        }
        if (daily) {
            return new UpstreamVerdict(Kind.QUOTA_EXHAUSTED, hint, "daily_limit");
        }
        return new UpstreamVerdict(Kind.RATE_LIMITED, hint,
                                   error != null && error.code() != null ? error.code() : "rate_limit_exceeded");
    }

    /**
     * Mistral: {@code type: rate_limited} (code 1300) is a per-minute window; a message about the monthly cap or
     * quota is exhaustion; "capacity exceeded" (code 3505) is the service's load, not the key's.
     */
    private static UpstreamVerdict classifyMistral(int status, Headers headers, ProviderError error, Instant now) {
        if (status != 429) {
            return null;
        }
        if (error != null && error.mentions("capacity")) {
            return new UpstreamVerdict(Kind.OVERLOADED, RetryHints.retryAfter(headers, now), "capacity_exceeded");
        }
        if (error != null && (error.mentions("month") || error.mentions("quota"))) {
            return new UpstreamVerdict(Kind.QUOTA_EXHAUSTED, RetryHints.retryAfter(headers, now), "monthly_limit");
        }
        if (error != null && "rate_limited".equals(error.type())) {
            return new UpstreamVerdict(Kind.RATE_LIMITED, RetryHints.retryAfter(headers, now), "rate_limited");
        }
        return null;
    }

    /**
     * OpenRouter's codes (openrouter.ai/docs/api/errors): 402 credits gone; 403 a moderation flag or guardrail
     * (the request, or this key's allowed models, not a bad key); 408 its own timeout; 502 the chosen model is
     * down; 503 no provider fits the routing; 429 with "per-day" in the message is the daily free-model quota.
     */
    private static UpstreamVerdict classifyOpenRouter(int status, Headers headers, ProviderError error, Instant now) {
        switch (status) {
            case 402:
                return UpstreamVerdict.of(Kind.QUOTA_EXHAUSTED, "insufficient_credits");
            case 403:
                if (error != null && (error.mentions("flagged") || error.mentions("moderation"))) {
                    return UpstreamVerdict.of(Kind.CLIENT_ERROR, "moderation_flagged");
                }
                return UpstreamVerdict.of(Kind.MODEL_NOT_FOUND, "forbidden_for_key");
            case 408:
                return UpstreamVerdict.of(Kind.TIMEOUT, "provider_timeout");
            case 502:
                return new UpstreamVerdict(Kind.OVERLOADED, RetryHints.retryAfter(headers, now), "model_down");
            case 429:
                if (error != null && (error.mentions("per-day") || error.mentions("per day"))) {
                    return new UpstreamVerdict(Kind.QUOTA_EXHAUSTED, RetryHints.retryAfter(headers, now),
                                               "daily_limit");
                }
                return null;
            default:
                return null;
        }
    }

    /** Message patterns every one of these hosts uses for a bad key, spent credit or a too-long prompt. */
    private static UpstreamVerdict classifyCommon(int status, ProviderError error) {
        if (error == null) {
            return null;
        }
        if ((status == 400 || status == 401 || status == 403) && error.mentions("api key")
            && (error.mentions("invalid") || error.mentions("incorrect"))) {
            return UpstreamVerdict.of(Kind.KEY_INVALID, "invalid_api_key");
        }
        if ((status == 402 || status == 403 || status == 429) && mentionsSpentCredit(error)) {
            return UpstreamVerdict.of(Kind.QUOTA_EXHAUSTED, "insufficient_credits");
        }
        if ((status == 400 || status == 413) && ("context_length_exceeded".equals(error.code())
                                                 || error.mentions("maximum context length")
                                                 || error.mentions("context length exceeded"))) {
            return UpstreamVerdict.of(Kind.CONTEXT_TOO_LONG, "context_length_exceeded");
        }
        return null;
    }

    private static boolean mentionsSpentCredit(ProviderError error) {
        return error.mentions("insufficient balance") || error.mentions("insufficient credit")
               || error.mentions("insufficient funds") || error.mentions("out of credits")
               || error.mentions("credit limit") || error.mentions("used all available credits")
               || error.mentions("spending limit") || error.mentions("exceeded your current quota");
    }

    /** Classifies an error event inside a stream, by its numeric code when it has one (OpenRouter's do). */
    private UpstreamVerdict classifyInBand(JsonNode error) {
        int status = 500;
        JsonNode code = error.isObject() ? error.get("code") : null;
        if (code != null && code.canConvertToInt() && code.asInt() >= 400 && code.asInt() < 600) {
            status = code.asInt();
        }
        ObjectNode envelope = JSON.createObjectNode();
        envelope.set("error", error);
        return classify(status, Headers.empty(), write(envelope), Instant.EPOCH);
    }

    private static long goDurationInMessage(String message) {
        if (message == null) {
            return UpstreamVerdict.NO_HINT;
        }
        Matcher m = GO_DURATION_IN_MESSAGE.matcher(message);
        return m.find() ? RetryHints.goDuration(m.group(1)) : RetryHints.fromMessage(message);
    }

    /** Returns the client's body as a tree, or {@code null} when it is not an object (the sniffer let it by). */
    private static ObjectNode parse(RequestContext ctx) {
        try (InputStream in = ctx.body().newInputStream()) {
            JsonNode tree = JSON.readTree(in);
            return tree instanceof ObjectNode o ? o : null;
        } catch (JsonProcessingException e) {
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] write(JsonNode tree) {
        try {
            return JSON.writeValueAsBytes(tree);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree did not serialise", e);
        }
    }

    private static Map<ProviderType, OpenAiCompatibleAdapter> presets() {
        Map<ProviderType, OpenAiCompatibleAdapter> m = new EnumMap<>(ProviderType.class);
        for (ProviderType t : ProviderType.values()) {
            if (t.dialect() != ProviderType.Dialect.OPENAI || t == ProviderType.OPENAI) {
                continue;
            }
            BodyQuirks quirks = t == ProviderType.MISTRAL ? MistralQuirks.INSTANCE
                    : t == ProviderType.GROQ ? GroqQuirks.INSTANCE
                    : null;
            m.put(t, new OpenAiCompatibleAdapter(t, quirks, t == ProviderType.OPENROUTER));
        }
        return m;
    }
}
