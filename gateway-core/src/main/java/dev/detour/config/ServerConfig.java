package dev.detour.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The inbound listener.
 *
 * @param host                 address to bind, {@code 0.0.0.0} for all interfaces
 * @param port                 TCP port; {@code 0} picks a free one (tests)
 * @param transport            event-loop transport: {@code auto}, {@code epoll} or {@code nio}
 * @param ioThreads            event-loop threads; {@code 0} means one per available processor
 * @param maxBodySize          largest request body in bytes, answered with 413 above it
 * @param maxHeaderSize        largest total size of request headers in bytes, answered with 431 above it
 * @param maxInitialLineLength longest request line in bytes, answered with 414 above it
 * @param idleTimeout          a client connection with no request and no answer written for this long is closed
 * @param requestTimeout       longest time a client may take to send a whole request once it started
 * @param shutdownGracePeriod  on SIGTERM, how long in-flight requests may take to finish
 * @param watchConfig          whether a gateway started from a file reloads it when it changes
 */
public record ServerConfig(
        String host,
        int port,
        TransportKind transport,
        int ioThreads,
        long maxBodySize,
        int maxHeaderSize,
        int maxInitialLineLength,
        Duration idleTimeout,
        Duration requestTimeout,
        Duration shutdownGracePeriod,
        boolean watchConfig) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8080;
    public static final long DEFAULT_MAX_BODY_SIZE = 16L * 1024 * 1024;
    public static final int DEFAULT_MAX_HEADER_SIZE = 16 * 1024;
    public static final int DEFAULT_MAX_INITIAL_LINE_LENGTH = 8 * 1024;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(120);
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_SHUTDOWN_GRACE_PERIOD = Duration.ofSeconds(30);

    public ServerConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        Objects.requireNonNull(shutdownGracePeriod, "shutdownGracePeriod");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
        }
        if (ioThreads < 0) {
            throw new IllegalArgumentException("ioThreads: " + ioThreads + " (expected: >= 0)");
        }
        if (maxBodySize <= 0 || maxBodySize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("maxBodySize: " + maxBodySize + " (expected: 1 B - 2 GiB)");
        }
    }

    /** Returns a listener that watches its config file (the default). */
    public ServerConfig(String host, int port, TransportKind transport, int ioThreads, long maxBodySize,
                        int maxHeaderSize, int maxInitialLineLength, Duration idleTimeout, Duration requestTimeout,
                        Duration shutdownGracePeriod) {
        this(host, port, transport, ioThreads, maxBodySize, maxHeaderSize, maxInitialLineLength, idleTimeout,
             requestTimeout, shutdownGracePeriod, true);
    }

    /** Returns the defaults, as documented in {@code docs/configuration.md}. */
    public static ServerConfig ofDefault() {
        return new ServerConfig(DEFAULT_HOST, DEFAULT_PORT, TransportKind.AUTO, 0, DEFAULT_MAX_BODY_SIZE,
                                DEFAULT_MAX_HEADER_SIZE, DEFAULT_MAX_INITIAL_LINE_LENGTH, DEFAULT_IDLE_TIMEOUT,
                                DEFAULT_REQUEST_TIMEOUT, DEFAULT_SHUTDOWN_GRACE_PERIOD, true);
    }

    /** Returns a copy listening on {@code newPort}. */
    public ServerConfig withPort(int newPort) {
        return new ServerConfig(host, newPort, transport, ioThreads, maxBodySize, maxHeaderSize,
                                maxInitialLineLength, idleTimeout, requestTimeout, shutdownGracePeriod, watchConfig);
    }

    /** The event-loop transport to use. */
    public enum TransportKind {
        /** Native epoll where it loads, NIO otherwise. */
        AUTO,
        /** Native epoll; start-up fails where it is not available. */
        EPOLL,
        /** The JDK's NIO selector. */
        NIO
    }
}
