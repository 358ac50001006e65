package dev.detour.server.upstream;

import dev.detour.provider.UpstreamOrigin;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * The last handler of every upstream connection: hands what arrives to the exchange currently using
 * the connection, and closes idle pooled connections.
 *
 * <p>One per connection; touched only by its event loop, so {@link #exchange} needs no volatile.
 */
final class UpstreamChannelHandler extends ChannelInboundHandlerAdapter {

    private final UpstreamClient client;
    private final UpstreamOrigin origin;
    private UpstreamExchange exchange;

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
