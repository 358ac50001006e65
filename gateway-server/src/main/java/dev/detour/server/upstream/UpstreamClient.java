package dev.detour.server.upstream;

import dev.detour.config.UpstreamConfig;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.RequestContext;
import dev.detour.provider.UpstreamOrigin;
import dev.detour.provider.UpstreamRequest;
import dev.detour.provider.UpstreamTransport;
import dev.detour.server.ServerAttributes;
import dev.detour.server.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLException;

/**
 * The HTTP/1.1 upstream client: non-blocking, keep-alive connections pooled per event loop and origin.
 *
 * <p>Each upstream connection is registered on the event loop of the client connection it serves,
 * so a request and its upstream exchange never hop threads and the pool needs no locks.
 *
 * <p>Thread-safe: per-loop state lives in a {@link FastThreadLocal}.
 */
public final class UpstreamClient implements UpstreamTransport {

    static final int MAX_CHUNK_SIZE = 16 * 1024;
    private static final int MAX_RESPONSE_HEADER_SIZE = 64 * 1024;

    private final Transport transport;
    private final UpstreamConfig config;
    private final SslContext ssl;
    private final FastThreadLocal<ConnectionPool> pools;
    /** Upstream connections open now, over every event loop; for metrics. */
    private final AtomicInteger open = new AtomicInteger();
    /** Of those, the ones idle in a pool. */
    private final AtomicInteger idle = new AtomicInteger();
    /** Connections established since start. */
    private final LongAdder opened = new LongAdder();

    /**
     * Creates a client that verifies certificates and host names against {@code upstream.ca-file}, or
     * the JDK's trust store when none is configured.
     */
    public UpstreamClient(Transport transport, UpstreamConfig config) {
        this(transport, config, newSslContext(config));
    }

    /** Creates a client with a given TLS context (tests trust their own certificates this way). */
    public UpstreamClient(Transport transport, UpstreamConfig config, SslContext ssl) {
        this.transport = Objects.requireNonNull(transport, "transport");
        this.config = Objects.requireNonNull(config, "config");
        this.ssl = Objects.requireNonNull(ssl, "ssl");
        int maxIdle = config.maxIdleConnections();
        this.pools = new FastThreadLocal<>() {
            @Override
            protected ConnectionPool initialValue() {
                return new ConnectionPool(maxIdle, idle);
            }
        };
    }

    private static SslContext newSslContext(UpstreamConfig config) {
        SslContextBuilder builder = SslContextBuilder.forClient().endpointIdentificationAlgorithm("HTTPS");
        config.caFile().ifPresent(file -> builder.trustManager(file.toFile()));
        try {
            return builder.build();
        } catch (SSLException e) {
            throw new IllegalStateException("upstream.ca-file: cannot use " + config.caFile().orElse(null) + ": "
                                            + e.getMessage(), e);
        }
    }

    @Override
    public CompletionStage<GatewayResponse> send(RequestContext ctx, UpstreamRequest request) {
        EventLoop loop = ctx.attr(ServerAttributes.EVENT_LOOP);
        ByteBuf body = ctx.attr(ServerAttributes.BODY);
        CompletableFuture<GatewayResponse> result = new CompletableFuture<>();
        UpstreamExchange exchange = new UpstreamExchange(this, ctx, request, loop, body, result);
        ctx.attr(ServerAttributes.IN_FLIGHT, exchange);
        exchange.begin();
        return result;
    }

    int maxErrorBodySize() {
        return config.maxErrorBodySize();
    }

    /** Returns the idle pool of the calling event loop. */
    ConnectionPool pool() {
        return pools.get();
    }

    ChannelFuture connect(EventLoop loop, UpstreamOrigin origin, int connectTimeoutMillis) {
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(transport.socketChannelType())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (origin.tls()) {
                            SslHandler tls = ssl.newHandler(ch.alloc(), origin.host(), origin.port());
                            tls.setHandshakeTimeoutMillis(connectTimeoutMillis > 0 ? connectTimeoutMillis : 10_000);
                            ch.pipeline().addLast("tls", tls);
                        }
                        ch.pipeline().addLast("codec", new HttpClientCodec(4096, MAX_RESPONSE_HEADER_SIZE,
                                                                           MAX_CHUNK_SIZE));
                        long idleMillis = config.poolIdleTimeout().toMillis();
                        if (idleMillis > 0) {
                            // Reads only: an exchange ends with the answer's last read, and an event while
                            // an exchange runs is ignored; watching writes would cost a listener per write.
                            ch.pipeline().addLast("idle", new IdleStateHandler(idleMillis, 0, 0,
                                                                               TimeUnit.MILLISECONDS));
                        }
                        ch.pipeline().addLast("exchange", new UpstreamChannelHandler(UpstreamClient.this, origin));
                    }
                });
        return b.connect(origin.host(), origin.port());
    }

    /** Returns how many upstream connections are open now, idle ones included. Any thread. */
    public int openConnections() {
        return open.get();
    }

    /** Returns how many open upstream connections wait idle in a pool for reuse. Any thread. */
    public int idleConnections() {
        return idle.get();
    }

    /** Returns how many upstream connections were established since start. Any thread. */
    public long connectionsOpened() {
        return opened.sum();
    }

    /** Counts a connection that became active. Called on its loop. */
    void connectionOpened() {
        open.incrementAndGet();
        opened.increment();
    }

    /** Counts a connection that closed. Called on its loop. */
    void connectionClosed() {
        open.decrementAndGet();
    }

    /** Returns {@code ch} to its loop's pool after a clean exchange. Called on {@code ch}'s loop. */
    void recycle(UpstreamOrigin origin, Channel ch) {
        pool().offer(origin, ch);
    }

    /** Returns whether TLS handshakes are needed before {@code ch} can carry a request. */
    static SslHandler tlsOf(Channel ch) {
        return ch.pipeline().get(SslHandler.class);
    }
}
