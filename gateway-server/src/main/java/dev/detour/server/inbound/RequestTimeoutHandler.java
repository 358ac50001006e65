package dev.detour.server.inbound;

import dev.detour.error.ErrorKind;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.GatewayResponse;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Bounds how long a client may take to send one whole request (head and body), answering 408 and
 * closing the connection when it takes longer: a slow sender must not hold a body buffer forever.
 *
 * <p>One per connection, on its event loop.
 */
final class RequestTimeoutHandler extends ChannelDuplexHandler {

    private final long timeoutNanos;
    private ScheduledFuture<?> timer;
    private String requestId;

    RequestTimeoutHandler(long timeoutNanos) {
        this.timeoutNanos = timeoutNanos;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request && timeoutNanos > 0 && timer == null) {
            String id = request.headers().get("x-request-id");
            requestId = id != null && RequestIds.isAcceptable(id) ? id : null;
            timer = ctx.executor().schedule(() -> expire(ctx), timeoutNanos, TimeUnit.NANOSECONDS);
        }
        if (msg instanceof LastHttpContent) {
            cancel();
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void expire(ChannelHandlerContext ctx) {
        timer = null;
        GatewayResponse.Full error = ErrorResponses.of(ErrorKind.REQUEST_TIMEOUT,
                "The request was not received in time (server.request-timeout). Send the whole request promptly.",
                "request_timeout", null);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.REQUEST_TIMEOUT, Unpooled.wrappedBuffer(error.body()));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        response.headers().set("x-request-id", requestId != null ? requestId : RequestIds.newId());
        HttpUtil.setContentLength(response, error.body().length);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}
