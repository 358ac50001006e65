package dev.detour.provider.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.api.Endpoint;
import dev.detour.api.InvalidRequestException;
import dev.detour.config.ApiKeyConfig;
import dev.detour.config.ProviderConfig;
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
import java.util.concurrent.ThreadLocalRandom;

/**
 * The adapter for AWS Bedrock: chat completions go to Converse ({@code /model/{id}/converse}) or ConverseStream
 * ({@code /model/{id}/converse-stream}), embeddings to Titan Text Embeddings v2 through InvokeModel
 * ({@code /model/{id}/invoke}); every request is signed with SigV4 (service {@code bedrock}, the provider's
 * {@code region} option) by the AWS SDK's signer. Legacy completions are refused.
 *
 * <p>Keys are {@code ACCESS_KEY_ID:SECRET_ACCESS_KEY} or {@code ACCESS_KEY_ID:SECRET_ACCESS_KEY:SESSION_TOKEN}.
 * The target's model is the Bedrock model id, an inference-profile id or an ARN; it is percent-encoded into the
 * path (AWS's rules: everything but {@code A-Z a-z 0-9 - _ . ~}, so {@code :} and {@code /} too).
 *
 * <pre>{@code
 * providers:
 *   aws:
 *     type: bedrock
 *     options: {region: us-east-1}
 *     keys: [{id: main, value: "${AWS_ACCESS_KEY_ID}:${AWS_SECRET_ACCESS_KEY}"}]
 * }</pre>
 *
 * <p>Stateless and thread-safe; per-exchange state lives in the translator {@link #prepare} creates.
 */
public final class BedrockAdapter implements ProviderAdapter {

    /** The shared instance, signing with the system clock. */
    public static final BedrockAdapter INSTANCE = new BedrockAdapter(Clock.systemUTC());

    static final String SERVICE = "bedrock";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private final Clock clock;
    private final SigV4Signer signer;

    private BedrockAdapter(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.signer = new SigV4Signer(clock);
    }

    /** Returns an adapter that reads the signing time (and {@code created}) from {@code clock}. */
    public static BedrockAdapter of(Clock clock) {
        return new BedrockAdapter(clock);
    }

    @Override
    public UpstreamRequest prepare(RequestContext ctx, Target target, ApiKeyConfig key) throws InvalidRequestException {
        ProviderConfig provider = target.provider();
        JsonNode request = read(ctx);
        String modelPath = target.origin().basePath() + "/model/" + encodeLabel(target.model());
        String clientModel = ctx.sniffed().model();
        boolean stream = ctx.stream() && ctx.endpoint() == Endpoint.CHAT_COMPLETIONS; // embeddings never stream
        byte[] body;
        String path;
        ResponseTranslator translator;
        switch (ctx.endpoint()) {
            case CHAT_COMPLETIONS:
                body = ConverseRequests.translate(request);
                path = modelPath + (stream ? "/converse-stream" : "/converse");
                translator = new ConverseTranslator(newCompletionId(), clock.instant().getEpochSecond(), clientModel,
                                                    ConverseRequests.includeUsage(request), ctx.usageSink());
                break;
            case EMBEDDINGS:
                body = TitanEmbeddings.request(request);
                path = modelPath + "/invoke";
                translator = new TitanEmbeddings(clientModel, TitanEmbeddings.base64(request), ctx.usageSink());
                break;
            default:
                throw new InvalidRequestException("The Bedrock provider serves /v1/chat/completions and "
                                                  + "/v1/embeddings, not " + ctx.endpoint().path() + "; send the "
                                                  + "prompt as a chat message instead.", null, "unsupported_endpoint");
        }
        Headers.Builder headers = Headers.builder()
                .add("content-type", "application/json")
                .add("accept", stream ? "application/vnd.amazon.eventstream" : "application/json");
        for (Map.Entry<String, String> h : provider.headers().entrySet()) {
            headers.add(h.getKey(), h.getValue());
        }
        Headers signed = signer.sign(SERVICE, region(provider), target.origin(), path, headers.build(), body,
                                     BedrockCredentials.of(key));
        return new UpstreamRequest(target, key, ctx.endpoint(), path, signed, new UpstreamBody.Replace(body),
                                   stream, ctx.route().timeouts(), translator);
    }

    @Override
    public UpstreamVerdict classify(int status, Headers headers, byte[] body, Instant now) {
        if (status < 400) {
            return UpstreamVerdict.OK; // Bedrock announces no limits on successful answers
        }
        return BedrockErrors.classify(status, headers, body, now);
    }

    @Override
    public GatewayResponse.Full clientError(int status, Headers headers, byte[] body, UpstreamVerdict verdict) {
        return BedrockErrors.clientError(status, headers, body, verdict);
    }

    /**
     * Percent-encodes one path label the way AWS SDKs do: every byte of the UTF-8 form except the unreserved
     * {@code A-Z a-z 0-9 - _ . ~}. The signer encodes the result once more for the canonical request.
     */
    static String encodeLabel(String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(bytes.length + 16);
        for (byte b : bytes) {
            int c = b & 0xFF;
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                || c == '-' || c == '_' || c == '.' || c == '~') {
                sb.append((char) c);
            } else {
                sb.append('%').append(HEX[c >> 4]).append(HEX[c & 0xF]);
            }
        }
        return sb.toString();
    }

    private static String region(ProviderConfig provider) {
        String region = provider.option("region");
        if (region == null || region.isEmpty()) {
            // The config loader requires it; reaching here means a provider built by hand without one.
            throw new IllegalStateException("provider '" + provider.name() + "': option region is required for type "
                                            + "bedrock");
        }
        return region;
    }

    private static JsonNode read(RequestContext ctx) throws InvalidRequestException {
        try (InputStream in = ctx.body().newInputStream()) {
            JsonNode root = JSON.readTree(in);
            if (root == null || !root.isObject()) {
                throw new InvalidRequestException("The request body must be a JSON object.", null, null);
            }
            return root;
        } catch (IOException e) {
            throw new InvalidRequestException("The request body is not valid JSON.", null, null);
        }
    }

    private static String newCompletionId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return "chatcmpl-" + Long.toHexString(random.nextLong() | Long.MIN_VALUE)
               + Long.toHexString(random.nextLong() | Long.MIN_VALUE);
    }
}
