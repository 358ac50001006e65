package dev.detour.provider.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.api.Endpoint;
import dev.detour.api.InvalidRequestException;
import dev.detour.config.ApiKeyConfig;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.provider.ProviderAdapter;
import dev.detour.provider.ResponseTranslator;
import dev.detour.provider.UpstreamBody;
import dev.detour.provider.UpstreamRequest;
import dev.detour.provider.UpstreamVerdict;
import dev.detour.routing.Target;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * The adapter for Google's Gemini API (Generative Language API, {@code providers.md} §5, §9.4, §9.5, §10).
 *
 * <p>Chat completions become {@code POST {base}/models/{model}:generateContent} (streamed:
 * {@code :streamGenerateContent?alt=sse}), legacy completions become one user turn of the same call, and
 * embeddings become {@code :batchEmbedContents}. The key travels in the {@code x-goog-api-key} header, never in
 * the URL. Answers are translated back by a new translator per exchange; errors are classified from the
 * {@code google.rpc.Status} body ({@code QuotaFailure}, {@code RetryInfo}) first and the status second.
 *
 * <p>Stateless and thread-safe.
 */
public final class GeminiAdapter implements ProviderAdapter {

    /** The shared instance, on the system clock. */
    public static final GeminiAdapter INSTANCE = new GeminiAdapter(Clock.systemUTC());

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MODELS = "models/";
    private static final String TUNED_MODELS = "tunedModels/";

    private final Clock clock;

    GeminiAdapter(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public UpstreamRequest prepare(RequestContext ctx, Target target, ApiKeyConfig key) throws InvalidRequestException {
        JsonNode request = readBody(ctx);
        String resource = resourceName(target.model());
        String base = target.origin().basePath() + '/' + encodeResource(resource);
        String clientModel = ctx.sniffed().model();
        long created = clock.instant().getEpochSecond();
        boolean stream = ctx.stream() && ctx.endpoint().streamable();
        byte[] body;
        String path;
        ResponseTranslator translator;
        if (ctx.endpoint() == Endpoint.EMBEDDINGS) {
            EmbedRequests.Batch batch = EmbedRequests.of(request, resource);
            body = batch.body();
            path = base + ":batchEmbedContents";
            translator = new EmbedTranslator(clientModel, batch.count(), batch.base64(), ctx.usageSink());
        } else {
            boolean chat = ctx.endpoint() == Endpoint.CHAT_COMPLETIONS;
            body = chat ? GenerateRequests.fromChat(request) : GenerateRequests.fromCompletion(request);
            path = base + (stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
            boolean includeUsage = request.path("stream_options").path("include_usage").asBoolean(false);
            translator = new GenerateTranslator(chat ? GenerateTranslator.Mode.CHAT : GenerateTranslator.Mode.TEXT,
                                                clientModel, ctx.requestId(), created, includeUsage, clock,
                                                ctx.usageSink());
        }
        Headers.Builder headers = Headers.builder()
                .add("content-type", "application/json")
                .add("accept", stream ? "text/event-stream" : "application/json");
        if (!key.value().isEmpty()) {
            headers.add("x-goog-api-key", key.value().reveal());
        }
        for (Map.Entry<String, String> h : target.provider().headers().entrySet()) {
            headers.add(h.getKey(), h.getValue());
        }
        return new UpstreamRequest(target, key, ctx.endpoint(), path, headers.build(), new UpstreamBody.Replace(body),
                                   stream, ctx.route().timeouts(), translator);
    }

    @Override
    public UpstreamVerdict classify(int status, Headers headers, byte[] body, Instant now) {
        return GeminiErrors.classify(status, headers, body, now);
    }

    @Override
    public GatewayResponse.Full clientError(int status, Headers headers, byte[] body, UpstreamVerdict verdict) {
        return GeminiErrors.clientError(status, body, verdict);
    }

    /**
     * Returns the API resource name of {@code model}: {@code models/{model}}, unless the route already names a
     * resource ({@code models/...} or {@code tunedModels/...}), whose prefix must not be doubled.
     */
    static String resourceName(String model) {
        if (model.startsWith(MODELS) || model.startsWith(TUNED_MODELS)) {
            return model;
        }
        return MODELS + model;
    }

    /**
     * Percent-encodes a resource name for the path: the collection prefix stays as is, and the id is encoded
     * whole (a {@code /} or {@code :} in it would change the route or the method, {@code :generateContent}).
     */
    static String encodeResource(String resource) {
        int slash = resource.indexOf('/');
        return resource.substring(0, slash + 1) + encodeSegment(resource.substring(slash + 1));
    }

    private static String encodeSegment(String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(utf8.length + 8);
        for (byte b : utf8) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '-' || c == '.' || c == '_' || c == '~') {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                  .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return sb.toString();
    }

    private static JsonNode readBody(RequestContext ctx) throws InvalidRequestException {
        try (InputStream in = ctx.body().newInputStream()) {
            JsonNode root = JSON.readTree(in);
            if (root == null || !root.isObject()) {
                throw new InvalidRequestException("The request body must be a JSON object.", null, "invalid_json");
            }
            return root;
        } catch (IOException e) {
            // The sniffer has already accepted the body; only a body changed under us could get here.
            throw new InvalidRequestException("The request body is not valid JSON.", null, "invalid_json");
        }
    }
}
