package dev.detour.routing;

import dev.detour.api.InvalidRequestException;
import dev.detour.config.ApiKeyConfig;
import dev.detour.error.ErrorKind;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.FilterChain;
import dev.detour.filter.FilterOrder;
import dev.detour.filter.GatewayFilter;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.RequestContext;
import dev.detour.provider.ProviderAdapter;
import dev.detour.provider.UpstreamException;
import dev.detour.provider.UpstreamRequest;
import dev.detour.provider.UpstreamTransport;
import dev.detour.provider.UpstreamVerdict;
import java.time.Clock;
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
 * <p>Targets are tried in order while an attempt fails before anything reached the client and the
 * provider cannot have served it (no connection, or an error inside a stream before its first
 * event). Any other outcome is the answer: upstream errors in OpenAI's envelope with their status,
 * timeouts as 504 and broken connections as 502.
 *
 * <p>Stateless and thread-safe.
 */
public final class DispatchFilter implements GatewayFilter {

    private final UpstreamTransport transport;
    private final Clock clock;

    /** Creates a dispatcher over {@code transport}, reading wall-clock time from {@code clock}. */
    public DispatchFilter(UpstreamTransport transport, Clock clock) {
        this.transport = Objects.requireNonNull(transport, "transport");
        this.clock = Objects.requireNonNull(clock, "clock");
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
        ProviderAdapter adapter = target.adapter();
        ApiKeyConfig key = target.keys().next();
        ctx.recordAttempt(target.provider().name(), target.model(), key.id());
        UpstreamRequest request;
        try {
            request = adapter.prepare(ctx, target, key);
        } catch (InvalidRequestException e) {
            return CompletableFuture.completedFuture(
                    ErrorResponses.of(ErrorKind.INVALID_REQUEST, e.getMessage(), e.code(), e.param()));
        }
        CompletionStage<GatewayResponse> sent;
        try {
            sent = transport.send(ctx, request);
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        return sent.handle((response, error) -> {
            if (error == null) {
                return CompletableFuture.completedFuture(answer(adapter, response));
            }
            Throwable cause = unwrap(error);
            if (cause instanceof UpstreamException ue) {
                UpstreamVerdict.Kind kind = ue.verdict().kind();
                boolean unserved = kind == UpstreamVerdict.Kind.CONNECT_FAILED
                                   || ue.kind() == UpstreamException.Kind.STREAM_ERROR;
                if (unserved && index + 1 < targets.size()) {
                    return attempt(ctx, index + 1);
                }
                return CompletableFuture.completedFuture(toResponse(ctx, target, ue));
            }
            return CompletableFuture.<GatewayResponse>failedFuture(cause);
        }).thenCompose(Function.identity());
    }

    private GatewayResponse answer(ProviderAdapter adapter, GatewayResponse response) {
        if (response.status() < 400 || !(response instanceof GatewayResponse.Full full)) {
            return response;
        }
        UpstreamVerdict verdict = adapter.classify(full.status(), full.headers(), full.body(), clock.instant());
        return adapter.clientError(full.status(), full.headers(), full.body(), verdict);
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
            case STREAM_ERROR:
                return ErrorResponses.of(ErrorKind.UPSTREAM, "Provider '" + provider + "' failed: " + e.getMessage(),
                                         e.verdict().detail(), null);
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
