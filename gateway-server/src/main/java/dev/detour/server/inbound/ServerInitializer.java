package dev.detour.server.inbound;

import dev.detour.config.ServerConfig;
import dev.detour.server.GatewayServer;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * Builds the pipeline of each client connection: idle timeout, HTTP/1.1 codec with size limits,
 * request timeout, body aggregation (413 above the limit), then the request handler.
 *
 * <p>The limits are read from the config version running when the connection opens, so a reload changes
 * them for new connections; open connections keep theirs.
 */
public final class ServerInitializer extends ChannelInitializer<SocketChannel> {

    private final GatewayServer server;

    /** Creates an initializer for {@code server}. */
    public ServerInitializer(GatewayServer server) {
        this.server = server;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        ServerConfig config = server.active().config().server();
        ChannelPipeline p = ch.pipeline();
        long idleMillis = config.idleTimeout().toMillis();
        if (idleMillis > 0) {
            // Reads only: InboundRequestHandler keeps a connection whose answer is being written or was just
            // written, without the listener on every write that watching writes would cost.
            p.addLast("idle", new IdleStateHandler(idleMillis, 0, 0, TimeUnit.MILLISECONDS));
        }
        p.addLast("codec", new HttpServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(config.maxInitialLineLength())
                .setMaxHeaderSize(config.maxHeaderSize())
                .setMaxChunkSize(16 * 1024)));
        p.addLast("request-timeout", new RequestTimeoutHandler(config.requestTimeout().toNanos()));
        p.addLast("aggregator", new InboundAggregator((int) config.maxBodySize()));
        p.addLast("handler", new InboundRequestHandler(server));
    }
}
