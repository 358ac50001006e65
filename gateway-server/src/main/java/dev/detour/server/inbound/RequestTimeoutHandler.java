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
 * <p>One per connection, on its event loop. The timer is armed only when a read ends with a request still
 * incomplete: most requests arrive whole in one read, and then no task is scheduled or cancelled at all (on
 * the event loop's queue, the costly part), only the head's arrival time is read.
 */
final class RequestTimeoutHandler extends ChannelDuplexHandler {

    private final long timeoutNanos;
    private ScheduledFuture<?> timer;
    /** The head of the request being received, or {@code null} between requests. */
    private HttpRequest receiving;
    private long startedNanos;

    RequestTimeoutHandler(long timeoutNanos) {
        this.timeoutNanos = timeoutNanos;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request && timeoutNanos > 0 && receiving == null) {
            receiving = request;
            startedNanos = System.nanoTime();
        }
        if (msg instanceof LastHttpContent) {
            receiving = null;
            cancel();
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (receiving != null && timer == null) {
            long left = startedNanos + timeoutNanos - System.nanoTime();
            timer = ctx.executor().schedule(() -> expire(ctx), Math.max(0, left), TimeUnit.NANOSECONDS);
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        receiving = null;
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
        if (receiving == null) {
            return;
        }
        String id = receiving.headers().get("x-request-id");
        String requestId = id != null && RequestIds.isAcceptable(id) ? id : null;
        receiving = null;
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
