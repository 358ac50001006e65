package dev.detour.server;

import dev.detour.auth.KeyAuthFilter;
import dev.detour.config.ChainConfig;
import dev.detour.config.ClientConfig;
import dev.detour.config.GatewayConfig;
import dev.detour.config.PolicyConfig;
import dev.detour.ratelimit.BucketStore;
import dev.detour.ratelimit.RateLimitFilter;
import dev.detour.config.ProviderType;
import dev.detour.config.ServerConfig;
import dev.detour.filter.FilterPipeline;
import dev.detour.filter.GatewayFilter;
import dev.detour.policy.PolicyFilter;
import dev.detour.provider.UpstreamTransport;
import dev.detour.routing.DispatchFilter;
import dev.detour.routing.RouteTable;
import dev.detour.server.inbound.ServerInitializer;
import dev.detour.server.metrics.GatewayMetrics;
import dev.detour.server.metrics.MetricsListener;
import dev.detour.server.upstream.MockTransport;
import dev.detour.server.upstream.UpstreamClient;
import dev.detour.time.NanoClock;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway: binds the listener, serves the OpenAI-compatible API, and shuts down gracefully.
 *
 * <p>Lifecycle: {@link #start(GatewayConfig)} binds and returns a ready server; {@link #stop(Duration)}
 * stops accepting, lets requests in flight (streams too) finish up to a deadline, then closes what is
 * left and releases the event loops. Thread-safe.
 */
public final class GatewayServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(GatewayServer.class);

    private final Transport transport;
    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final UpstreamClient upstream;
    /** One set of meters for the server's lifetime: counters go on across reloads. */
    private final GatewayMetrics metrics;
    /**
     * One bucket store for the server's lifetime, not per config version: bucket keys name the limit, its
     * scope value and its size, so a reload keeps the buckets of limits it did not change.
     */
    private final BucketStore buckets = BucketStore.newLocal(NanoClock.SYSTEM);
    private final AtomicReference<ActiveConfig> active = new AtomicReference<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final ChannelGroup connections = new DefaultChannelGroup("detour-clients", GlobalEventExecutor.INSTANCE);
    private volatile Channel listener;
    /** The separate metrics listener, or {@code null} when metrics are served on the main one (or not at all). */
    private volatile MetricsListener metricsListener;
    private volatile boolean ready;
    private volatile boolean draining;
    private final AtomicInteger stopped = new AtomicInteger();

    private GatewayServer(GatewayConfig config) {
        ServerConfig sc = config.server();
        this.transport = Transport.of(sc.transport());
        this.bossGroup = transport.newEventLoopGroup(1, new DefaultThreadFactory("detour-accept"));
        // One event loop per processor: a proxy's loops never block, so more would only add switching.
        int ioThreads = sc.ioThreads() > 0 ? sc.ioThreads() : Runtime.getRuntime().availableProcessors();
        this.workerGroup = transport.newEventLoopGroup(ioThreads, new DefaultThreadFactory("detour-io"));
        this.upstream = new UpstreamClient(transport, config.upstream());
        this.metrics = GatewayMetrics.create(config.metrics(), () -> active.get().routes(), upstream);
        this.active.set(activate(config));
    }

    /**
     * Starts a gateway on {@code config} and waits until it listens.
     *
     * @throws InterruptedException if interrupted while binding
     * @throws IllegalStateException if the address cannot be bound
     */
    public static GatewayServer start(GatewayConfig config) throws InterruptedException {
        GatewayServer server = new GatewayServer(Objects.requireNonNull(config, "config"));
        try {
            server.bind(config.server());
            server.bindMetrics(config);
        } catch (RuntimeException | InterruptedException e) {
            Channel l = server.listener;
            if (l != null) {
                l.close().awaitUninterruptibly();
            }
            server.shutdownGroups();
            server.metrics.close();
            throw e;
        }
        return server;
    }

    private ActiveConfig activate(GatewayConfig config) {
        RouteTable routes = RouteTable.of(config, Instant.now().getEpochSecond());
        MockTransport mock = new MockTransport(config.providers().values());
        UpstreamTransport http = upstream;
        UpstreamTransport byType = (ctx, request) -> request.provider().type() == ProviderType.MOCK
                                                     ? mock.send(ctx, request) : http.send(ctx, request);
        Map<String, Supplier<GatewayFilter>> builtIns = new LinkedHashMap<>();
        ChainConfig chain = config.chain();
        builtIns.put("auth", () -> chain.auth().enabled()
                                   ? new KeyAuthFilter(chain.clients(), NanoClock.SYSTEM) : null);
        builtIns.put("policy", () -> new PolicyFilter(chain, routes));
        builtIns.put("rate-limit", () -> hasLimits(chain)
                                         ? new RateLimitFilter(chain, buckets, NanoClock.SYSTEM, metrics) : null);
        FilterPipeline pipeline = ChainAssembly.build(config.chain(), builtIns,
                                                      new DispatchFilter(byType, NanoClock.SYSTEM, metrics));
        return new ActiveConfig(config, routes, pipeline, new AccessLog(config.logging()),
                                new dev.detour.auth.AdminAuth(config.chain().auth().adminKeys()));
    }

    private static boolean hasLimits(ChainConfig chain) {
        if (!chain.limits().isEmpty()) {
            return true;
        }
        for (ClientConfig c : chain.clients()) {
            if (!c.limits().isEmpty()) {
                return true;
            }
        }
        for (PolicyConfig p : chain.policies()) {
            if (!p.limits().isEmpty()) {
                return true;
            }
        }
        return false;
    }

    private void bind(ServerConfig sc) throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(transport.serverChannelType())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    private final ServerInitializer init = new ServerInitializer(GatewayServer.this, sc);

                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.add(ch);
                        ch.pipeline().addLast(init);
                    }
                });
        try {
            listener = b.bind(sc.host(), sc.port()).sync().channel();
        } catch (Exception e) {
            if (e instanceof InterruptedException ie) {
                throw ie;
            }
            throw new IllegalStateException("cannot listen on " + sc.host() + ":" + sc.port() + ": " + e.getMessage(),
                                            e);
        }
        ready = true;
        if (!active.get().config().chain().auth().enabled()) {
            LOG.warn("AUTHENTICATION IS OFF: anyone who can reach {} may call every route. For anything but local "
                     + "use, set auth.enabled: true and add clients (detour keys generate; docs/policies.md).",
                     listener.localAddress());
        }
        LOG.info("Detour {} listening on {} ({} transport, {} routes)", Version.current(), listener.localAddress(),
                 transport.name().toLowerCase(), active.get().routes().modelNames().size());
    }

    /** Binds the separate metrics listener when {@code metrics.port} asks for one. */
    private void bindMetrics(GatewayConfig config) throws InterruptedException {
        if (!metrics.enabled() || !config.metrics().separateListener()) {
            return;
        }
        String host = config.metrics().host().orElse(config.server().host());
        metricsListener = MetricsListener.bind(bossGroup, workerGroup, transport.serverChannelType(), host,
                                               config.metrics().port(), config.server().idleTimeout(), metrics,
                                               active::get);
    }

    /** Returns the server's meters; {@link GatewayMetrics#enabled()} says whether they are kept. */
    public GatewayMetrics metrics() {
        return metrics;
    }

    /** Returns the address of the separate metrics listener, or empty when there is none. */
    public Optional<InetSocketAddress> metricsAddress() {
        MetricsListener m = metricsListener;
        return m == null ? Optional.empty() : Optional.of(m.address());
    }

    /** Returns the bound address. */
    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /** Returns the bound port. */
    public int port() {
        return address().getPort();
    }

    /** Returns the transport in use. */
    public Transport transport() {
        return transport;
    }

    /** Returns the config snapshot new requests use. */
    public ActiveConfig active() {
        return active.get();
    }

    /** Returns whether the gateway is bound with a loaded config and not shutting down. */
    public boolean ready() {
        return ready && !draining;
    }

    /** Returns whether a graceful shutdown is under way. */
    public boolean draining() {
        return draining;
    }

    /** Returns how many requests are being served. */
    public int inFlight() {
        return inFlight.get();
    }

    /** Counts a request in. Called by the inbound handler. */
    public void requestStarted() {
        inFlight.incrementAndGet();
    }

    /** Counts a request out. Called by the inbound handler. */
    public void requestFinished() {
        inFlight.decrementAndGet();
    }

    /**
     * Stops accepting connections, waits up to {@code grace} for requests in flight to finish, then
     * closes every connection and stops the event loops. Idempotent; blocks the caller.
     */
    public void stop(Duration grace) {
        if (!stopped.compareAndSet(0, 1)) {
            return;
        }
        draining = true;
        Channel l = listener;
        if (l != null) {
            l.close().awaitUninterruptibly();
        }
        MetricsListener m = metricsListener;
        if (m != null) {
            m.close();
        }
        long deadline = System.nanoTime() + grace.toNanos();
        int left;
        while ((left = inFlight.get()) > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (left > 0) {
            LOG.warn("shutdown grace period of {} ms ended with {} requests in flight; closing them",
                     grace.toMillis(), left);
        }
        connections.close().awaitUninterruptibly();
        shutdownGroups();
        metrics.close();
        LOG.info("Detour stopped");
    }

    @Override
    public void close() {
        stop(active.get().config().server().shutdownGracePeriod());
    }

    private void shutdownGroups() {
        bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
