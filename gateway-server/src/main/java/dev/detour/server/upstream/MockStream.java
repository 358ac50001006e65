package dev.detour.server.upstream;

import dev.detour.filter.GatewayResponse;
import dev.detour.provider.mock.MockReply;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Plays a mock provider's SSE events to the client, one flushed write per event, spaced by the
 * configured pace.
 *
 * <p>Runs on the client's event loop only. Events are wrapped, not copied: they are byte arrays the
 * responder made for this one reply.
 */
final class MockStream implements ClientRelay {

    private final EventLoop loop;
    private final dev.detour.filter.RequestContext ctx;
    private final List<byte[]> events;
    private final long intervalNanos;
    private ChannelHandlerContext client;
    private Listener listener;
    private int next;
    private long bytes;
    private boolean done;
    private ScheduledFuture<?> timer;
    private GatewayResponse.BodyObserver observer;

    MockStream(EventLoop loop, MockReply reply, dev.detour.filter.RequestContext ctx) {
        this.loop = loop;
        this.ctx = ctx;
        this.events = reply.events();
        this.intervalNanos = reply.interEventDelay().toNanos();
    }

    @Override
    public boolean isEventStream() {
        return true;
    }

    @Override
    public long contentLength() {
        return -1;
    }

    @Override
    public boolean observe(GatewayResponse.BodyObserver newObserver) {
        if (client != null || done) {
            return false; // already started
        }
        observer = observer == null ? newObserver : GatewayResponse.BodyObserver.both(observer, newObserver);
        return true;
    }

    @Override
    public void start(ChannelHandlerContext clientCtx, Listener relayListener) {
        this.client = clientCtx;
        this.listener = relayListener;
        if (intervalNanos <= 0) {
            while (!done && next < events.size()) {
                writeNext(false);
            }
            if (!done) {
                finish();
            }
            return;
        }
        writeNext(true);
    }

    private void writeNext(boolean flush) {
        byte[] event = events.get(next++);
        bytes += event.length;
        if (ctx.needsUsage()) {
            ctx.usage().scan(event, 0, event.length);
        }
        if (observer != null) {
            observer.onChunk(java.nio.ByteBuffer.wrap(event).asReadOnlyBuffer());
        }
        DefaultHttpContent content = new DefaultHttpContent(Unpooled.wrappedBuffer(event));
        if (flush) {
            client.writeAndFlush(content);
        } else {
            client.write(content);
        }
        if (intervalNanos > 0) {
            if (next < events.size()) {
                timer = loop.schedule(() -> {
                    if (!done) {
                        writeNext(true);
                    }
                }, intervalNanos, TimeUnit.NANOSECONDS);
            } else {
                finish();
            }
        }
    }

    private void finish() {
        done = true;
        endObserver(true); // before the last write, as UpstreamExchange does
        ChannelFuture last = client.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        listener.relayCompleted(last, bytes);
    }

    @Override
    public long chunks() {
        return next;
    }

    @Override
    public void resume() {
        // Mock streams are short and paced; they do not pause for backpressure.
    }

    @Override
    public void abort() {
        done = true;
        if (timer != null) {
            timer.cancel(false);
        }
        endObserver(false);
    }

    private void endObserver(boolean complete) {
        GatewayResponse.BodyObserver o = observer;
        if (o == null) {
            return;
        }
        observer = null;
        if (complete) {
            o.onComplete();
        } else {
            o.onAbort();
        }
    }
}
