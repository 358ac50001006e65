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
import dev.detour.provider.ResponseTranslator;
import dev.detour.provider.StreamFailure;
import dev.detour.provider.UpstreamBody;
import io.netty.buffer.ByteBufUtil;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
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
        MockReply answered = responder.reply(request.endpoint(), request.target().model(), request.key().id(),
                                             request.stream(), new ByteArrayInputStream(effectiveBody(body, request)));
        MockReply reply = request.translated() && answered.streamed()
                          ? translated(answered, request.translator()) : answered;
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

    /** Returns the body as the adapter would send it upstream: the client's, spliced or replaced. */
    private static byte[] effectiveBody(ByteBuf body, UpstreamRequest request) {
        byte[] client = ByteBufUtil.getBytes(body);
        UpstreamBody b = request.body();
        if (b instanceof UpstreamBody.Replace replace) {
            return replace.bytes();
        }
        List<UpstreamBody.Splice> edits = b instanceof UpstreamBody.Splice one ? List.of(one)
                : b instanceof UpstreamBody.Splices many ? many.parts() : List.of();
        return UpstreamBody.apply(client, edits);
    }

    /** Returns {@code reply} with its events passed through {@code translator}, as an upstream's would be. */
    private static MockReply translated(MockReply reply, ResponseTranslator translator) {
        List<byte[]> events = new ArrayList<>(reply.events().size());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            for (byte[] event : reply.events()) {
                out.reset();
                translator.translateStream(ByteBuffer.wrap(event), out::write);
                if (out.size() > 0) {
                    events.add(out.toByteArray());
                }
            }
            out.reset();
            translator.endStream(out::write);
            if (out.size() > 0) {
                events.add(out.toByteArray());
            }
        } catch (StreamFailure | ResponseTranslator.TranslationException e) {
            throw new IllegalStateException("the mock's own stream did not translate: " + e.getMessage(), e);
        }
        return new MockReply(reply.status(), reply.headers(), reply.delay(), reply.body(), events,
                             reply.interEventDelay(), reply.hang());
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
