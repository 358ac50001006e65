package dev.detour.routing;

import dev.detour.config.ApiKeyConfig;
import dev.detour.error.ErrorKind;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.FilterChain;
import dev.detour.filter.FilterOrder;
import dev.detour.filter.GatewayFilter;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.RequestContext;
import dev.detour.provider.OpenAiAdapter;
import dev.detour.provider.ProviderAdapter;
import dev.detour.provider.UpstreamException;
import dev.detour.provider.UpstreamRequest;
import dev.detour.provider.UpstreamTransport;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * The terminal filter: sends the request to the route's targets through the upstream transport.
 *
 * <p>Targets are tried in order while an attempt fails before anything was sent (no connection):
 * such a failure cannot have reached the provider, so the next target can safely take the request.
 * Any other outcome is the answer: upstream errors pass through with their status, timeouts become
 * 504 and broken connections 502.
 *
 * <p>Stateless and thread-safe.
 */
public final class DispatchFilter implements GatewayFilter {

    private final UpstreamTransport transport;

    /** Creates a dispatcher over {@code transport}. */
    public DispatchFilter(UpstreamTransport transport) {
        this.transport = Objects.requireNonNull(transport, "transport");
    }

    @Override
    public int order() {
        return FilterOrder.DISPATCH;
    }

    @Override
    public String name() {
        return "dispatch";
    }

    @Override
    public CompletionStage<GatewayResponse> filter(RequestContext ctx, FilterChain next) {
        return attempt(ctx, 0);
    }

    private CompletionStage<GatewayResponse> attempt(RequestContext ctx, int index) {
        List<Target> targets = ctx.route().targets();
        Target target = targets.get(index);
        ApiKeyConfig key = target.keys().next();
        ctx.recordAttempt(target.provider().name(), target.model(), key.id());
        UpstreamRequest request = adapterFor(target).prepare(ctx, target, key);
        CompletionStage<GatewayResponse> sent;
        try {
            sent = transport.send(ctx, request);
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        return sent.handle((response, error) -> {
            if (error == null) {
                return CompletableFuture.completedFuture(response);
            }
            Throwable cause = unwrap(error);
            if (cause instanceof UpstreamException ue) {
                if (ue.kind() == UpstreamException.Kind.CONNECT && index + 1 < targets.size()) {
                    return attempt(ctx, index + 1);
                }
                return CompletableFuture.completedFuture(toResponse(ctx, target, ue));
            }
            return CompletableFuture.<GatewayResponse>failedFuture(cause);
        }).thenCompose(Function.identity());
    }

    private static ProviderAdapter adapterFor(Target target) {
        switch (target.provider().type()) {
            case OPENAI:
            case MOCK: // the mock speaks OpenAI's dialect; its transport answers in-process
            default:
                return OpenAiAdapter.INSTANCE;
        }
    }

    private static GatewayResponse toResponse(RequestContext ctx, Target target, UpstreamException e) {
        String provider = target.provider().name();
        switch (e.kind()) {
            case CONNECT:
                return ErrorResponses.of(ErrorKind.UPSTREAM,
                        "Could not connect to provider '" + provider + "' (" + e.getMessage()
                        + "). Try again later; if it persists, the gateway operator should check the provider's "
                        + "base-url.", "upstream_unreachable", null);
            case FIRST_BYTE_TIMEOUT:
                return ErrorResponses.of(ErrorKind.TIMEOUT,
                        "Provider '" + provider + "' did not start answering within "
                        + human(ctx.route().timeouts().firstByte()) + ". Try again later.",
                        "upstream_timeout", null);
            case IDLE_TIMEOUT:
            case TOTAL_TIMEOUT:
                return ErrorResponses.of(ErrorKind.TIMEOUT,
                        "Provider '" + provider + "' did not finish answering in time. Try again later.",
                        "upstream_timeout", null);
            default:
                return ErrorResponses.of(ErrorKind.UPSTREAM,
                        "Provider '" + provider + "' failed before answering (" + e.getMessage()
                        + "). Try again later.", "upstream_error", null);
        }
    }

    private static String human(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
    }

    private static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while (c instanceof CompletionException && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }
}
