package dev.detour.server.metrics;

import dev.detour.error.ErrorKind;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.GatewayResponse;
import dev.detour.server.ActiveConfig;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listener of its own for {@code /metrics} ({@code metrics.port} other than 0), so that scrapes can be kept on
 * an internal interface or port while the API is exposed. It serves the metrics path and nothing else, on the
 * server's event loops.
 *
 * <p>Lifecycle: {@link #bind} when the server starts, {@link #close} when it stops. Thread-safe.
 */
public final class MetricsListener implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MetricsListener.class);
    /** Scrapes are GETs: a few headers, no body. */
    private static final int MAX_REQUEST_SIZE = 64 * 1024;

    private final Channel channel;
    private final ChannelGroup connections;

    private MetricsListener(Channel channel, ChannelGroup connections) {
        this.channel = channel;
        this.connections = connections;
    }

    /**
     * Binds {@code host}:{@code port} and serves scrapes of {@code metrics} there, under the configuration
     * {@code active} returns at each request.
     *
     * @throws InterruptedException if interrupted while binding
     * @throws IllegalStateException if the address cannot be bound
     */
    public static MetricsListener bind(EventLoopGroup boss, EventLoopGroup workers,
                                       Class<? extends ServerChannel> channelType, String host, int port,
                                       Duration idleTimeout, GatewayMetrics metrics,
                                       Supplier<ActiveConfig> active) throws InterruptedException {
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(active, "active");
        ChannelGroup connections = new DefaultChannelGroup("detour-metrics", GlobalEventExecutor.INSTANCE);
        ScrapeHandler handler = new ScrapeHandler(metrics, active);
        long idleMillis = idleTimeout.toMillis();
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(channelType)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.add(ch);
                        if (idleMillis > 0) {
                            ch.pipeline().addLast(new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS));
                        }
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_REQUEST_SIZE),
                                              handler);
                    }
                });
        try {
            Channel channel = b.bind(host, port).sync().channel();
            LOG.info("metrics served on {}{}", channel.localAddress(), active.get().config().metrics().path());
            return new MetricsListener(channel, connections);
        } catch (Exception e) {
            if (e instanceof InterruptedException ie) {
                throw ie;
            }
            throw new IllegalStateException("cannot listen for metrics on " + host + ":" + port + " (metrics.port): "
                                            + e.getMessage(), e);
        }
    }

    /** Returns the bound address. */
    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** Stops listening and closes every scrape connection. Blocks until done. */
    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
        connections.close().awaitUninterruptibly();
    }

    /** Answers each request on a metrics connection; stateless, so one instance serves every connection. */
    @ChannelHandler.Sharable
    private static final class ScrapeHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final GatewayMetrics metrics;
        private final Supplier<ActiveConfig> active;

        ScrapeHandler(GatewayMetrics metrics, Supplier<ActiveConfig> active) {
            this.metrics = metrics;
            this.active = active;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            ActiveConfig config = active.get();
            boolean keepAlive = HttpUtil.isKeepAlive(request) && !request.decoderResult().isFailure();
            boolean head = HttpMethod.HEAD.equals(request.method());
            if (request.decoderResult().isFailure()) {
                write(ctx, ErrorResponses.of(ErrorKind.INVALID_REQUEST, "Malformed HTTP request.", "malformed_http",
                                             null), false, false);
            } else if (!pathOf(request.uri()).equals(config.config().metrics().path())) {
                write(ctx, ErrorResponses.of(ErrorKind.NOT_FOUND, "This listener serves only "
                        + config.config().metrics().path() + " (metrics.port).", "unknown_url", null), head,
                      keepAlive);
            } else {
                // The request is released when this method returns: respond reads its headers before that.
                MetricsEndpoint.respond(metrics, config.config().metrics(), config.admin(), request.method().name(),
                                        name -> request.headers().get(name))
                        .thenAccept(answer -> ctx.executor().execute(() -> write(ctx, answer, head, keepAlive)));
            }
        }

        private static void write(ChannelHandlerContext ctx, GatewayResponse.Full answer, boolean head,
                                  boolean keepAlive) {
            if (!ctx.channel().isActive()) {
                return;
            }
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.valueOf(answer.status()),
                    head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(answer.body()));
            for (int i = 0; i < answer.headers().size(); i++) {
                response.headers().add(answer.headers().name(i), answer.headers().value(i));
            }
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, answer.body().length);
            if (!keepAlive) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
            ctx.writeAndFlush(response).addListener(keepAlive ? ChannelFutureListener.CLOSE_ON_FAILURE
                                                              : ChannelFutureListener.CLOSE);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                ctx.close();
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof IOException) {
                LOG.debug("metrics connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
            } else {
                LOG.warn("unexpected error on metrics connection {}", ctx.channel().remoteAddress(), cause);
            }
            ctx.close();
        }

        private static String pathOf(String uri) {
            int q = uri.indexOf('?');
            String path = q < 0 ? uri : uri.substring(0, q);
            return path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        }
    }
}
