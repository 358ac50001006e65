package dev.detour.server;

import dev.detour.config.ServerConfig;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.concurrent.ThreadFactory;

/**
 * The event-loop transport: native epoll where it loads, the JDK's NIO otherwise.
 *
 * <p>Server and upstream channels use the same transport, because upstream connections are
 * registered on the inbound channel's event loop.
 */
public enum Transport {
    EPOLL {
        @Override
        IoHandlerFactory ioHandlerFactory() {
            return EpollIoHandler.newFactory();
        }

        @Override
        public Class<? extends ServerChannel> serverChannelType() {
            return EpollServerSocketChannel.class;
        }

        @Override
        public Class<? extends SocketChannel> socketChannelType() {
            return EpollSocketChannel.class;
        }
    },
    NIO {
        @Override
        IoHandlerFactory ioHandlerFactory() {
            return NioIoHandler.newFactory();
        }

        @Override
        public Class<? extends ServerChannel> serverChannelType() {
            return NioServerSocketChannel.class;
        }

        @Override
        public Class<? extends SocketChannel> socketChannelType() {
            return NioSocketChannel.class;
        }
    };

    /**
     * Returns the transport for {@code kind}.
     *
     * @throws IllegalStateException if epoll is asked for and cannot load
     */
    public static Transport of(ServerConfig.TransportKind kind) {
        switch (kind) {
            case NIO:
                return NIO;
            case EPOLL:
                if (!Epoll.isAvailable()) {
                    throw new IllegalStateException("server.transport: epoll is not available here ("
                                                    + Epoll.unavailabilityCause() + "); use auto or nio");
                }
                return EPOLL;
            default:
                return Epoll.isAvailable() ? EPOLL : NIO;
        }
    }

    /** Returns a new event-loop group of {@code threads} threads ({@code 0}: one per processor). */
    public EventLoopGroup newEventLoopGroup(int threads, ThreadFactory threadFactory) {
        return new MultiThreadIoEventLoopGroup(threads, threadFactory, ioHandlerFactory());
    }

    abstract IoHandlerFactory ioHandlerFactory();

    /** Returns the server channel class. */
    public abstract Class<? extends ServerChannel> serverChannelType();

    /** Returns the client channel class. */
    public abstract Class<? extends SocketChannel> socketChannelType();
}
