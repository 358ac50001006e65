package dev.detour.routing;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import dev.detour.api.Endpoint;
import dev.detour.catalog.ModelInfo;
import dev.detour.error.ErrorKind;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.AttributeKey;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.RequestContext;
import dev.detour.provider.UpstreamVerdict;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/**
 * Refuses, without sending it, a request that clearly does not fit the context window the model catalog gives
 * for a target's model, as if the provider had answered {@code context_length_exceeded}: the router moves to
 * the route's {@code context-fallback} target, if any, and otherwise the client gets that 400 at once instead of
 * after a round trip (and a spent request of the key's quota).
 *
 * <h2>The estimate</h2>
 * Prompt tokens are estimated as the characters of the prompt's text divided by 4, OpenAI's rule of thumb for
 * English: the strings of {@code messages}, {@code prompt}, {@code tools}, {@code functions} and
 * {@code response_format}, without images, audio and files (whose token cost is not their size) and without
 * {@code data:} URLs; a token id in a legacy {@code prompt} array counts one. To this come the completion
 * tokens asked for: the target's {@code params} override, else {@code max_completion_tokens}, else
 * {@code max_tokens}, else 16 for legacy completions (OpenAI's default) and nothing for chat.
 *
 * <p>The check refuses only when the prompt, assumed a tenth smaller than estimated, plus the completion still
 * exceeds the window: a miss costs one upstream answer, a false refusal a request that would have been served,
 * so the estimate leans towards sending. Embeddings are never checked (their limit is per input).
 *
 * <h2>Cost</h2>
 * Nothing is parsed when the body, counted as if it were all prompt text, plus the model's output cap fits the
 * window: every ordinary request to a model whose output cap is below its window. (A client asking for more than
 * the cap is left to the provider, which refuses that anyway.) Otherwise the body is scanned once per request
 * with Jackson's streaming parser and the estimate kept in the context for the next target. A body that cannot
 * be read is sent (fail open): the provider's own check still applies.
 *
 * <p>Stateless and thread-safe.
 */
final class ContextWindowCheck {

    /** The verdict of a refused attempt. */
    static final UpstreamVerdict VERDICT =
            UpstreamVerdict.of(UpstreamVerdict.Kind.CONTEXT_TOO_LONG, "context_window_estimate");

    /** The refusal the last check produced for this request, so the dispatcher can tell it from an upstream's. */
    static final AttributeKey<GatewayResponse.Full> REFUSAL = AttributeKey.newKey("context-window-refusal");

    private static final AttributeKey<Estimate> ESTIMATE = AttributeKey.newKey("context-window-estimate");
    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                                           .maxNestingDepth(256)
                                           .maxStringLength(64 * 1024 * 1024)
                                           .build())
            .build();
    private static final int CHARS_PER_TOKEN = 4;
    private static final int COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

    private ContextWindowCheck() {
    }

    /**
     * Returns the 400 {@code context_length_exceeded} for sending {@code ctx}'s request to {@code target}, or
     * {@code null} when it may fit or the catalog does not know the target's model. Called on the request's
     * executor.
     */
    static GatewayResponse.Full check(RequestContext ctx, Target target) {
        if (target.modelInfo().isEmpty() || ctx.endpoint() == Endpoint.EMBEDDINGS) {
            return null;
        }
        ModelInfo model = target.modelInfo().get();
        long window = model.contextWindow();
        long bodyBound = ctx.clientBody().length() / CHARS_PER_TOKEN;
        if (discounted(bodyBound) + Math.max(model.maxOutputTokens(), paramsMaxTokens(target)) <= window) {
            return null; // even if every byte were prompt text, and the answer as long as the model allows
        }
        Estimate estimate = ctx.attr(ESTIMATE);
        if (estimate == null) {
            estimate = estimate(ctx);
            ctx.attr(ESTIMATE, estimate);
        }
        if (estimate == Estimate.UNKNOWN) {
            return null;
        }
        long completion = paramsMaxTokens(target);
        if (completion < 0) {
            completion = estimate.maxTokens() >= 0 ? estimate.maxTokens()
                    : ctx.endpoint() == Endpoint.COMPLETIONS ? COMPLETIONS_DEFAULT_MAX_TOKENS : 0;
        }
        if (discounted(estimate.promptTokens()) + completion <= window) {
            return null;
        }
        GatewayResponse.Full refusal = ErrorResponses.of(ErrorKind.INVALID_REQUEST,
                "This request needs about " + (estimate.promptTokens() + completion) + " tokens (about "
                + estimate.promptTokens() + " in the prompt, " + completion + " for the completion), more than the "
                + "context window of model '" + target.model() + "' at provider '" + target.provider().name()
                + "', " + window + " tokens. Shorten the prompt or lower max_tokens.",
                "context_length_exceeded", "messages");
        ctx.attr(REFUSAL, refusal);
        return refusal;
    }

    /** Returns the prompt tokens as the check counts them: a tenth below the estimate. */
    private static long discounted(long promptTokens) {
        return promptTokens - promptTokens / 10;
    }

    /** Returns the completion tokens the target's {@code params} set, or -1. */
    private static long paramsMaxTokens(Target target) {
        Map<String, Object> params = target.params();
        if (params.isEmpty()) {
            return -1;
        }
        Object v = params.get("max_completion_tokens");
        if (!(v instanceof Number)) {
            v = params.get("max_tokens");
        }
        return v instanceof Number n ? Math.max(0, n.longValue()) : -1;
    }

    private static Estimate estimate(RequestContext ctx) {
        long chars = 0;
        long tokenIds = 0;
        long maxCompletionTokens = -1;
        long maxTokens = -1;
        try (InputStream in = ctx.clientBody().newInputStream(); JsonParser p = JSON.createParser(in)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return Estimate.UNKNOWN;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "messages":
                    case "tools":
                    case "functions":
                    case "response_format":
                        chars += text(p, null);
                        break;
                    case "prompt":
                        long[] ids = new long[1];
                        chars += text(p, ids);
                        tokenIds += ids[0];
                        break;
                    case "max_completion_tokens":
                        maxCompletionTokens = value == JsonToken.VALUE_NUMBER_INT ? Math.max(0, p.getLongValue()) : -1;
                        break;
                    case "max_tokens":
                        maxTokens = value == JsonToken.VALUE_NUMBER_INT ? Math.max(0, p.getLongValue()) : -1;
                        break;
                    default:
                        p.skipChildren();
                        break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // Fail open: the sniffer accepted the body, so this is unexpected; the provider still checks.
            return Estimate.UNKNOWN;
        }
        return new Estimate(chars / CHARS_PER_TOKEN + tokenIds, maxCompletionTokens >= 0 ? maxCompletionTokens
                                                                                          : maxTokens);
    }

    /**
     * Returns the characters of text in the value at the parser's current token, which it consumes; counts
     * integers into {@code tokenIds[0]} when that is given (a legacy prompt of token ids).
     */
    private static long text(JsonParser p, long[] tokenIds) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_STRING) {
            return stringLength(p);
        }
        if (t == JsonToken.VALUE_NUMBER_INT && tokenIds != null) {
            tokenIds[0]++;
            return 0;
        }
        if (t != JsonToken.START_OBJECT && t != JsonToken.START_ARRAY) {
            return 0;
        }
        long chars = 0;
        int depth = 1;
        while (depth > 0 && (t = p.nextToken()) != null) {
            switch (t) {
                case START_OBJECT:
                case START_ARRAY:
                    depth++;
                    break;
                case END_OBJECT:
                case END_ARRAY:
                    depth--;
                    break;
                case FIELD_NAME:
                    if (isMedia(p.currentName())) {
                        p.nextToken();
                        p.skipChildren();
                    }
                    break;
                case VALUE_STRING:
                    chars += stringLength(p);
                    break;
                case VALUE_NUMBER_INT:
                    if (tokenIds != null) {
                        tokenIds[0]++;
                    }
                    break;
                default:
                    break;
            }
        }
        return chars;
    }

    /** Returns whether a content part's field holds media, whose tokens are not its size. */
    private static boolean isMedia(String field) {
        switch (field) {
            case "image_url":
            case "input_audio":
            case "file":
            case "audio":
                return true;
            default:
                return false;
        }
    }

    private static long stringLength(JsonParser p) throws IOException {
        int length = p.getTextLength();
        if (length >= 5) {
            char[] chars = p.getTextCharacters();
            int at = p.getTextOffset();
            if (chars[at] == 'd' && chars[at + 1] == 'a' && chars[at + 2] == 't' && chars[at + 3] == 'a'
                && chars[at + 4] == ':') {
                return 0; // a data: URL outside the fields above: its size says nothing about tokens
            }
        }
        return length;
    }

    /**
     * What a request asks for, read once.
     *
     * @param promptTokens the estimated prompt tokens
     * @param maxTokens    the client's {@code max_completion_tokens} or {@code max_tokens}, or -1
     */
    private record Estimate(long promptTokens, long maxTokens) {
        static final Estimate UNKNOWN = new Estimate(-1, -1);
    }
}
