package dev.detour.provider;

import dev.detour.config.ApiKeyConfig;
import dev.detour.config.ProviderConfig;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.routing.Target;
import java.util.Map;

/**
 * The adapter for OpenAI and every host that speaks its API: the body passes through byte for byte,
 * with only the {@code model} value spliced when the route maps it to another name.
 *
 * <p>Stateless and thread-safe.
 */
public final class OpenAiAdapter implements ProviderAdapter {

    /** The shared instance. */
    public static final OpenAiAdapter INSTANCE = new OpenAiAdapter();

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
            headers.add("authorization", "Bearer " + key.value().reveal());
        }
        for (Map.Entry<String, String> h : provider.headers().entrySet()) {
            headers.add(h.getKey(), h.getValue());
        }
        BodyEdit edit = null;
        if (!target.model().equals(ctx.sniffed().model())) {
            edit = new BodyEdit(ctx.sniffed().modelValueStart(), ctx.sniffed().modelValueEnd(), target.modelJson());
        }
        String path = target.origin().basePath() + ctx.endpoint().upstreamSuffix();
        return new UpstreamRequest(target, key, ctx.endpoint(), path, headers.build(), edit, ctx.stream(),
                                   ctx.route().timeouts());
    }
}
