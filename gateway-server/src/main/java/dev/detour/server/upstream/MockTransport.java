package dev.detour.server.upstream;

import dev.detour.config.ProviderConfig;
import dev.detour.config.ProviderType;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.RequestContext;
import dev.detour.provider.UpstreamException;
import dev.detour.provider.UpstreamRequest;
import dev.detour.provider.UpstreamTransport;
import dev.detour.provider.mock.MockReply;
import dev.detour.provider.mock.MockResponder;
import dev.detour.server.ServerAttributes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.channel.EventLoop;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Answers requests for {@code mock} providers in-process, timing latency and stream pace on the
 * request's event loop: no network, no keys, and no blocking.
 *
 * <p>Thread-safe: the responders are built once per config and are thread-safe themselves.
 */
public final class MockTransport implements UpstreamTransport {

    private final Map<String, MockResponder> responders;

    /** Creates a transport for the {@code mock} providers among {@code providers}. */
    public MockTransport(Iterable<ProviderConfig> providers) {
        Map<String, MockResponder> byName = new HashMap<>();
        for (ProviderConfig p : providers) {
            if (p.type() == ProviderType.MOCK) {
                byName.put(p.name(), new MockResponder(p));
            }
        }
        this.responders = Map.copyOf(byName);
    }

    @Override
    public CompletionStage<GatewayResponse> send(RequestContext ctx, UpstreamRequest request) {
        MockResponder responder = responders.get(request.provider().name());
        if (responder == null) {
            return CompletableFuture.failedFuture(new IllegalStateException(
                    "provider '" + request.provider().name() + "' is not a mock provider"));
        }
        ByteBuf body = ctx.attr(ServerAttributes.BODY);
        MockReply reply = responder.reply(request.endpoint(), request.target().model(), request.key().id(),
                                          request.stream(), new ByteBufInputStream(body.duplicate()));
        EventLoop loop = ctx.attr(ServerAttributes.EVENT_LOOP);
        CompletableFuture<GatewayResponse> result = new CompletableFuture<>();
        long sentNanos = System.nanoTime();
        PendingReply pending = new PendingReply(result);
        ctx.attr(ServerAttributes.IN_FLIGHT, pending);
        if (reply.hang()) {
            long firstByte = request.timeouts().firstByte().toNanos();
            long total = request.timeouts().total().toNanos();
            long wait = firstByte > 0 ? firstByte : total;
            UpstreamException.Kind kind = firstByte > 0 ? UpstreamException.Kind.FIRST_BYTE_TIMEOUT
                                                        : UpstreamException.Kind.TOTAL_TIMEOUT;
            if (wait > 0) {
                pending.timer = loop.schedule(
                        () -> result.completeExceptionally(new UpstreamException(kind, "mock provider never answered")),
                        wait, TimeUnit.NANOSECONDS);
            }
            return result;
        }
        Runnable answer = () -> {
            ctx.upstreamNanos(System.nanoTime() - sentNanos);
            if (reply.streamed()) {
                result.complete(new GatewayResponse.Relayed(reply.status(), reply.headers(),
                                                            new MockStream(loop, reply, ctx)));
            } else {
                result.complete(new GatewayResponse.Full(reply.status(), reply.headers(), reply.body()));
            }
        };
        long delay = reply.delay().toNanos();
        if (delay <= 0) {
            answer.run();
        } else {
            pending.timer = loop.schedule(answer, delay, TimeUnit.NANOSECONDS);
        }
        return result;
    }

    private static final class PendingReply implements ServerAttributes.Cancellable {
        private final CompletableFuture<GatewayResponse> result;
        private ScheduledFuture<?> timer;

        PendingReply(CompletableFuture<GatewayResponse> result) {
            this.result = result;
        }

        @Override
        public void cancel() {
            if (timer != null) {
                timer.cancel(false);
            }
            if (!result.isDone()) {
                result.completeExceptionally(new UpstreamException(UpstreamException.Kind.CLOSED, "cancelled"));
            } else {
                GatewayResponse r = result.getNow(null);
                if (r instanceof GatewayResponse.Relayed relayed) {
                    relayed.body().abort();
                }
            }
        }
    }
}
