package dev.detour.server.inbound;

import dev.detour.error.ErrorKind;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.GatewayResponse;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Aggregates a request body up to the configured limit, answering larger ones with an OpenAI-shaped 413.
 *
 * <p>Netty's aggregator would answer with an empty 413 that SDKs cannot parse. The connection stays
 * open when the client can go on (keep-alive, or it waits for {@code 100 Continue}): the aggregator
 * then discards the rest of the oversized body.
 */
final class InboundAggregator extends HttpObjectAggregator {

    private final int maxBody;

    InboundAggregator(int maxBody) {
        super(maxBody);
        this.maxBody = maxBody;
    }

    /**
     * Answers {@code Expect} headers: {@code 100 Continue} when the body may come, else an OpenAI-shaped
     * 413 (announced body too large) or 417 (an expectation other than {@code 100-continue}).
     */
    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        Object response = super.newContinueResponse(start, maxContentLength, pipeline);
        if (!(response instanceof FullHttpResponse netty)) {
            return response;
        }
        int code = netty.status().code();
        if (code != 413 && code != 417) {
            return response;
        }
        netty.release();
        GatewayResponse.Full error = code == 413 ? tooLarge() : ErrorResponses.of(ErrorKind.EXPECTATION_FAILED,
                "Only 'Expect: 100-continue' is supported; send the request without the Expect header.",
                "expectation_failed", null);
        return json(error, netty.status(), start);
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        FullHttpResponse response = json(tooLarge(), HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, oversized);
        boolean close = oversized instanceof FullHttpMessage
                        || (!HttpUtil.is100ContinueExpected(oversized) && !HttpUtil.isKeepAlive(oversized));
        if (close) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        }
    }

    private GatewayResponse.Full tooLarge() {
        return ErrorResponses.of(ErrorKind.PAYLOAD_TOO_LARGE, "The request body is larger than this gateway accepts ("
                + maxBody + " bytes, set by server.max-body-size). Send a smaller request.", "request_too_large", null);
    }

    private static FullHttpResponse json(GatewayResponse.Full error, HttpResponseStatus status, HttpMessage request) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                                                                Unpooled.wrappedBuffer(error.body()));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        HttpUtil.setContentLength(response, error.body().length);
        String requestId = request.headers().get("x-request-id");
        response.headers().set("x-request-id", requestId != null && RequestIds.isAcceptable(requestId)
                                               ? requestId : RequestIds.newId());
        return response;
    }
}
