package dev.detour.server.upstream;

import dev.detour.provider.UpstreamOrigin;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The last handler of every upstream connection: hands what arrives to the exchange currently using
 * the connection, and closes idle pooled connections.
 *
 * <p>Holds the connection's watchdog: one timer that outlives exchanges. An exchange asks for it to fire
 * no later than its earliest deadline ({@link #watchAt}); when it fires, the exchange attached then checks
 * its own deadlines and asks again. Exchanges on a busy keep-alive connection have ever later deadlines, so
 * the timer is scheduled about once per timeout period instead of once per exchange, and never cancelled
 * when an exchange ends (a firing with no exchange attached does nothing).
 *
 * <p>One per connection; touched only by its event loop, so {@link #exchange} needs no volatile.
 */
final class UpstreamChannelHandler extends ChannelInboundHandlerAdapter {

    private final UpstreamClient client;
    private final UpstreamOrigin origin;
    private UpstreamExchange exchange;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> watchdog;
    private long watchdogAt;

    UpstreamChannelHandler(UpstreamClient client, UpstreamOrigin origin) {
        this.client = client;
        this.origin = origin;
    }

    void attach(UpstreamExchange newExchange) {
        this.exchange = newExchange;
    }

    void detach() {
        this.exchange = null;
    }

    /** Makes sure the watchdog fires no later than {@code at} ({@link System#nanoTime()}). Event loop only. */
    void watchAt(long at) {
        if (watchdog != null && watchdogAt - at <= 0) {
            return;
        }
        cancelWatchdog();
        watchdogAt = at;
        watchdog = ctx.executor().schedule(this::onWatchdog, Math.max(0, at - System.nanoTime()),
                                           TimeUnit.NANOSECONDS);
    }

    private void onWatchdog() {
        watchdog = null;
        UpstreamExchange current = exchange;
        if (current != null) {
            current.onWatchdog();
        }
    }

    private void cancelWatchdog() {
        if (watchdog != null) {
            watchdog.cancel(false);
            watchdog = null;
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        UpstreamExchange current = exchange;
        if (current == null) {
            // Bytes on an idle connection are a protocol violation: drop them and the connection.
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        if (msg instanceof HttpResponse response) {
            current.onHead(response);
        }
        if (msg instanceof HttpContent content) {
            current.onContent(content);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        UpstreamExchange current = exchange;
        if (current != null) {
            current.onReadComplete();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        client.connectionOpened();
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        client.pool().remove(origin, ctx.channel());
        client.connectionClosed();
        cancelWatchdog();
        UpstreamExchange current = exchange;
        exchange = null;
        if (current != null) {
            current.onClosed(null);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        UpstreamExchange current = exchange;
        exchange = null;
        if (current != null) {
            current.onClosed(cause);
        }
        ctx.close();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent && exchange == null) {
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }
}
