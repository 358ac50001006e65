package dev.detour.server;

import dev.detour.auth.KeyAuthFilter;
import dev.detour.budget.BudgetFilter;
import dev.detour.budget.BudgetState;
import dev.detour.cache.CacheFilter;
import dev.detour.cache.ResponseCache;
import dev.detour.config.ChainConfig;
import dev.detour.config.ClientConfig;
import dev.detour.config.ConfigException;
import dev.detour.config.ConfigProblem;
import dev.detour.config.GatewayConfig;
import dev.detour.config.LoggingConfig;
import dev.detour.config.PolicyConfig;
import dev.detour.ratelimit.BucketStore;
import dev.detour.ratelimit.RateLimitFilter;
import dev.detour.config.ProviderType;
import dev.detour.config.ServerConfig;
import dev.detour.filter.FilterPipeline;
import dev.detour.filter.GatewayFilter;
import dev.detour.policy.PolicyFilter;
import dev.detour.provider.UpstreamTransport;
import dev.detour.ratelimit.RateLimitStats;
import dev.detour.routing.AffinityTable;
import dev.detour.routing.DispatchFilter;
import dev.detour.routing.RouteTable;
import dev.detour.server.accesslog.AccessLog;
import dev.detour.server.accesslog.AccessLogWriter;
import dev.detour.server.admin.AdminApi;
import dev.detour.server.inbound.ServerInitializer;
import dev.detour.server.reload.ConfigReloads;
import dev.detour.server.reload.ConfigSource;
import dev.detour.server.reload.ConfigVersion;
import dev.detour.server.reload.ConfigWatcher;
import dev.detour.server.reload.ReloadResult;
import dev.detour.server.reload.RestartOnlyChange;
import dev.detour.server.metrics.GatewayMetrics;
import dev.detour.server.metrics.MetricsListener;
import dev.detour.server.upstream.MockTransport;
import dev.detour.server.upstream.UpstreamClient;
import dev.detour.time.NanoClock;
import dev.detour.usage.UsageFileException;
import dev.detour.usage.UsageLedger;
import dev.detour.usage.UsagePersistence;
import dev.detour.usage.UsageRecorder;
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
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway: binds the listener, serves the OpenAI-compatible API, reloads its config, and shuts down
 * gracefully.
 *
 * <p>Lifecycle: {@link #start(ConfigSource)} (or {@link #start(GatewayConfig)} for a config without a file)
 * binds and returns a ready server; {@link #stop(Duration)} stops accepting, lets requests in flight (streams
 * too) finish up to a deadline, then closes what is left and releases the event loops. Thread-safe.
 *
 * <p>Reload: {@link #reload(String)} reads and validates the file, builds a new {@link ActiveConfig} from it and
 * the running one ({@link RouteTable#next} keeps key states, breakers and latency figures; the bucket store and
 * session pins live here for the server's lifetime), and swaps it in with one atomic write. A request reads
 * the snapshot once when it arrives and keeps it to the end, so requests in flight finish on the version they
 * started with and new ones see the new version. Reloads run one at a time on the {@code detour-config-reload}
 * thread, never on an event loop; a file that cannot be read or bound is refused and the running version stays.
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
    /** Session pins, kept across config versions like the buckets: they name targets, not objects. */
    private final AffinityTable affinity = new AffinityTable();
    /** The config the listener, event loops and upstream client were built from; a reload cannot change it. */
    private final GatewayConfig bound;
    /** Where reloads read from; empty for a config given in memory. */
    private final Optional<ConfigSource> source;
    private final ConfigReloads reloads;
    /** One thread for every reload, whatever triggered it: reloads never overlap, and never run on a loop. */
    private final ExecutorService reloader;
    private final AdminApi admin;
    private volatile ConfigWatcher watcher;
    /**
     * One usage ledger for the server's lifetime, like the buckets: budgets of every config version count in it,
     * and it is what {@link UsagePersistence} saves. {@code usage.data-dir} is read at start-up only.
     */
    private final UsageLedger usage = new UsageLedger(NanoClock.SYSTEM);
    private final UsageRecorder recorder = new UsageRecorder(usage);
    private final UsagePersistence persistence;
    /**
     * One response cache for the server's lifetime, like the buckets: a reload keeps its entries (keys name
     * the route and its targets, so a changed route does not serve old answers) and applies a new size bound.
     */
    private final ResponseCache cache;
    /**
     * The access log's writer to stdout, for the server's lifetime: config versions come and go, and a line handed
     * over by the old one is still written. Its thread starts with the first version whose lines go to it.
     */
    private final AccessLogWriter accessLogWriter;
    private final AtomicReference<ActiveConfig> active = new AtomicReference<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final ChannelGroup connections = new DefaultChannelGroup("detour-clients", GlobalEventExecutor.INSTANCE);
    private volatile Channel listener;
    /** The separate metrics listener, or {@code null} when metrics are served on the main one (or not at all). */
    private volatile MetricsListener metricsListener;
    private volatile boolean ready;
    private volatile boolean draining;
    private final AtomicInteger stopped = new AtomicInteger();

    private GatewayServer(GatewayConfig config, Optional<ConfigSource> source, Optional<String> sha256,
                          Optional<OutputStream> accessLog) {
        try {
            // First: a usage file that cannot be read stops start-up before any thread or socket exists.
            this.persistence = UsagePersistence.open(config.usage(), usage);
        } catch (UsageFileException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        LoggingConfig logging = config.logging();
        this.accessLogWriter = accessLog
                .map(out -> AccessLogWriter.newWriter(out, logging.queueSize(), logging.flushInterval()))
                .orElseGet(() -> AccessLogWriter.newStdoutWriter(logging.queueSize(), logging.flushInterval()));
        this.bound = config;
        this.source = source;
        this.reloads = new ConfigReloads(new ConfigVersion(1, sha256, source.map(ConfigSource::toString)
                                                                             .orElse(config.source()), Instant.now()));
        try {
            ServerConfig sc = config.server();
            this.transport = Transport.of(sc.transport());
            this.bossGroup = transport.newEventLoopGroup(1, new DefaultThreadFactory("detour-accept"));
            // One event loop per processor: a proxy's loops never block, so more would only add switching.
            int ioThreads = sc.ioThreads() > 0 ? sc.ioThreads() : Runtime.getRuntime().availableProcessors();
            this.workerGroup = transport.newEventLoopGroup(ioThreads, new DefaultThreadFactory("detour-io"));
            this.upstream = new UpstreamClient(transport, config.upstream());
            this.cache = ResponseCache.newCache(config.cache().maxSize(), NanoClock.SYSTEM);
            this.metrics = GatewayMetrics.create(config.metrics(), () -> active.get().routes(), upstream);
            this.metrics.cacheStats(() -> Optional.of(cache.stats()));
            this.metrics.accessLog(accessLogWriter);
            this.active.set(activate(config, null, reloads.current()));
        } catch (RuntimeException e) {
            persistence.close();
            accessLogWriter.close();
            throw e;
        }
        this.reloader = Executors.newSingleThreadExecutor(new DefaultThreadFactory("detour-config-reload", true));
        this.admin = AdminApi.standard(this);
    }

    /**
     * Starts a gateway on {@code config} and waits until it listens.
     *
     * @throws InterruptedException if interrupted while binding
     * @throws IllegalStateException if the address cannot be bound
     */
    public static GatewayServer start(GatewayConfig config) throws InterruptedException {
        return bindOrShutDown(new GatewayServer(Objects.requireNonNull(config, "config"), Optional.empty(),
                                                Optional.empty(), Optional.empty()));
    }

    /**
     * Starts a gateway on {@code config} like {@link #start(GatewayConfig)}, with the access log's stdout sink
     * writing to {@code accessLog} instead (tests, an embedding application). The stream is never closed.
     *
     * @throws InterruptedException if interrupted while binding
     * @throws IllegalStateException if the address cannot be bound
     */
    public static GatewayServer start(GatewayConfig config, OutputStream accessLog) throws InterruptedException {
        return bindOrShutDown(new GatewayServer(Objects.requireNonNull(config, "config"), Optional.empty(),
                                                Optional.empty(),
                                                Optional.of(Objects.requireNonNull(accessLog, "accessLog"))));
    }

    /**
     * Starts a gateway on the config in {@code source} and waits until it listens; the file is watched for
     * changes when {@code server.watch-config} is on, and read again on every {@link #reload(String)}.
     *
     * @throws ConfigException if the file cannot be read or is not a valid config
     * @throws InterruptedException if interrupted while binding
     * @throws IllegalStateException if the address cannot be bound
     */
    public static GatewayServer start(ConfigSource source) throws ConfigException, InterruptedException {
        return start(source, Optional.empty());
    }

    /**
     * Starts a gateway on the config in {@code source} like {@link #start(ConfigSource)}, with the access log's
     * stdout sink writing to {@code accessLog} instead (tests, an embedding application). The stream is never closed.
     *
     * @throws ConfigException if the file cannot be read or is not a valid config
     * @throws InterruptedException if interrupted while binding
     * @throws IllegalStateException if the address cannot be bound
     */
    public static GatewayServer start(ConfigSource source, OutputStream accessLog)
            throws ConfigException, InterruptedException {
        return start(source, Optional.of(Objects.requireNonNull(accessLog, "accessLog")));
    }

    private static GatewayServer start(ConfigSource source, Optional<OutputStream> accessLog)
            throws ConfigException, InterruptedException {
        ConfigSource.Loaded loaded = Objects.requireNonNull(source, "source").load();
        GatewayServer server = bindOrShutDown(new GatewayServer(loaded.config(), Optional.of(source),
                                                                Optional.of(loaded.sha256()), accessLog));
        if (loaded.config().server().watchConfig()) {
            try {
                server.watcher = ConfigWatcher.start(source.file(), ConfigWatcher.DEFAULT_DEBOUNCE,
                                                     () -> server.reload("file"));
            } catch (IOException | RuntimeException e) {
                LOG.warn("cannot watch {} for changes ({}); reload with SIGHUP or POST /admin/reload",
                         source.file(), e.toString());
            }
        }
        return server;
    }

    private static GatewayServer bindOrShutDown(GatewayServer server) throws InterruptedException {
        try {
            server.bind(server.bound.server());
            server.bindMetrics(server.bound);
        } catch (RuntimeException | InterruptedException e) {
            Channel l = server.listener;
            if (l != null) {
                l.close().awaitUninterruptibly();
            }
            server.reloader.shutdownNow();
            server.shutdownGroups();
            server.metrics.close();
            server.persistence.close();
            server.accessLogWriter.close();
            throw e;
        }
        return server;
    }

    /**
     * Builds the snapshot of {@code config}, continuing the run-time state of {@code previous} (or starting
     * afresh when it is {@code null}). Everything built here is plain objects: nothing to close when a version
     * is dropped, so old versions are garbage once their last request finishes.
     */
    private ActiveConfig activate(GatewayConfig config, ActiveConfig previous, ConfigVersion version) {
        long created = Instant.now().getEpochSecond();
        RouteTable routes = previous == null ? RouteTable.of(config, created) : previous.routes().next(config, created);
        MockTransport mock = new MockTransport(config.providers().values());
        UpstreamTransport http = upstream;
        UpstreamTransport byType = (ctx, request) -> request.provider().type() == ProviderType.MOCK
                                                     ? mock.send(ctx, request) : http.send(ctx, request);
        Map<String, Supplier<GatewayFilter>> builtIns = new LinkedHashMap<>();
        ChainConfig chain = config.chain();
        builtIns.put("auth", () -> chain.auth().enabled()
                                   ? new KeyAuthFilter(chain.clients(), NanoClock.SYSTEM) : null);
        builtIns.put("policy", () -> new PolicyFilter(chain, routes));
        RateLimitFilter[] rateLimit = new RateLimitFilter[1];
        BudgetFilter budgets = chain.hasBudgets() ? new BudgetFilter(chain, routes, usage, NanoClock.SYSTEM) : null;
        builtIns.put("budget", () -> budgets);
        builtIns.put("rate-limit", () -> hasLimits(chain)
                                         ? rateLimit[0] = new RateLimitFilter(chain, buckets, NanoClock.SYSTEM, metrics)
                                         : null);
        cache.resize(config.cache().maxSize());
        builtIns.put("cache", () -> CacheFilter.of(config, cache).orElse(null));
        FilterPipeline pipeline = ChainAssembly.build(config.chain(), builtIns,
                                                      new DispatchFilter(byType, NanoClock.SYSTEM, affinity, metrics));
        Optional<RateLimitStats> limitStats = Optional.ofNullable(rateLimit[0]).map(RateLimitFilter::stats);
        AccessLog accessLog = new AccessLog(config.logging(), accessLogWriter);
        if (accessLog.usesWriter()) {
            accessLogWriter.start();
        }
        return new ActiveConfig(config, routes, pipeline, accessLog,
                                new dev.detour.auth.AdminAuth(config.chain().auth().adminKeys()), version, limitStats,
                                Optional.ofNullable(budgets));
    }

    /**
     * Reloads the config file on the reload thread and returns what happened; never blocks the caller.
     *
     * <p>Steps: read the file and hash it (unchanged text: nothing to do); bind and validate it (any problem:
     * refused, logged at ERROR with every problem, the running version stays); build the new snapshot from the
     * running one; swap it in; log at INFO, and at WARN each restart-only setting that differs from the one in
     * use ({@link RestartOnlyChange}). Every outcome is recorded in {@link #reloads()}.
     *
     * @param trigger what asked for it, for logs and the record: {@code file}, {@code signal} or {@code admin}
     * @return the result; refused at once when the gateway was started without a file or is stopping
     */
    public CompletableFuture<ReloadResult> reload(String trigger) {
        Objects.requireNonNull(trigger, "trigger");
        if (source.isEmpty()) {
            return CompletableFuture.completedFuture(refused(trigger, List.of(
                    "this gateway was started from a config in memory, not a file: there is nothing to reload")));
        }
        try {
            return CompletableFuture.supplyAsync(() -> reloadNow(source.get(), trigger), reloader);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.completedFuture(refused(trigger, List.of("the gateway is shutting down")));
        }
    }

    /** Runs one reload; called on the reload thread only, so reloads never interleave. */
    private ReloadResult reloadNow(ConfigSource from, String trigger) {
        ActiveConfig running = active.get();
        ConfigSource.Text text;
        try {
            text = from.read();
        } catch (ConfigException e) {
            return refuse(trigger, e.problems());
        }
        if (running.version().sha256().filter(text.sha256()::equals).isPresent()) {
            ReloadResult r = new ReloadResult(ReloadResult.Outcome.UNCHANGED, trigger, Instant.now(), running.version(),
                                              List.of(), reloads.pendingRestart());
            if ("file".equals(trigger)) {
                LOG.debug("config file {} changed on disk but not in content; nothing to reload", from);
            } else {
                LOG.info("config reload ({}): {} is unchanged, version {} keeps running", trigger, from,
                         running.version().describe());
            }
            reloads.record(r);
            return r;
        }
        ConfigSource.Loaded loaded;
        try {
            loaded = from.bind(text);
        } catch (ConfigException e) {
            return refuse(trigger, e.problems());
        }
        Instant now = Instant.now();
        ConfigVersion version = running.version().next(loaded, now);
        ActiveConfig next;
        try {
            next = activate(loaded.config(), running, version);
        } catch (RuntimeException e) {
            // The binder checks everything a snapshot needs, so this is a bug; still, the old config keeps serving.
            LOG.error("config reload ({}): building version {} failed", trigger, version.describe(), e);
            return refused(trigger, List.of(from + ": cannot apply the config: " + e));
        }
        active.set(next);
        List<RestartOnlyChange> restart = RestartOnlyChange.between(bound, loaded.config());
        ReloadResult result = new ReloadResult(ReloadResult.Outcome.APPLIED, trigger, now, version, List.of(),
                                               restart);
        reloads.record(result);
        metrics.configReloaded(true);
        LOG.info("config reloaded ({}): version {} from {} is running ({} providers, {} routes); requests in flight "
                 + "finish on version {}", trigger, version.describe(), from, loaded.config().providers().size(),
                 next.routes().modelNames().size(), running.version().number());
        for (RestartOnlyChange c : restart) {
            LOG.warn("config reload: {} changed from {} to {} in the file, but it is read only at start: restart the "
                     + "gateway to apply it (still running with {})", c.field(), c.running(), c.configured(),
                     c.running());
        }
        if (!loaded.config().chain().auth().enabled() && running.config().chain().auth().enabled()) {
            LOG.warn("AUTHENTICATION IS OFF from config version {} on: anyone who can reach {} may call every route.",
                     version.number(), listener.localAddress());
        }
        return result;
    }

    private ReloadResult refuse(String trigger, List<ConfigProblem> problems) {
        List<String> lines = new ArrayList<>(problems.size());
        for (ConfigProblem p : problems) {
            lines.add(p.toString());
        }
        return refused(trigger, lines);
    }

    private ReloadResult refused(String trigger, List<String> problems) {
        ConfigVersion running = active.get().version();
        ReloadResult r = new ReloadResult(ReloadResult.Outcome.REFUSED, trigger, Instant.now(), running, problems,
                                          List.of());
        reloads.record(r);
        metrics.configReloaded(false);
        LOG.error("config reload ({}) refused, version {} keeps running ({} problem{}):\n  {}", trigger,
                  running.describe(), problems.size(), problems.size() == 1 ? "" : "s", String.join("\n  ", problems));
        return r;
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
                    private final ServerInitializer init = new ServerInitializer(GatewayServer.this);

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

    /** Returns the response cache, whose {@link ResponseCache#stats()} metrics and admin views publish. */
    public ResponseCache cache() {
        return cache;
    }

    /** Returns the transport in use. */
    public Transport transport() {
        return transport;
    }

    /** Returns the config snapshot new requests use. */
    public ActiveConfig active() {
        return active.get();
    }

    /** Returns the record of config reloads: counts, last attempt and error, version, pending restart. */
    public ConfigReloads reloads() {
        return reloads;
    }

    /** Returns the config file reloads read, or empty when the gateway was started from a config in memory. */
    public Optional<ConfigSource> source() {
        return source;
    }

    /** Returns whether the config file is being watched for changes. */
    public boolean watching() {
        return watcher != null;
    }

    /** Returns the config the listener and upstream client were built with (restart-only settings). */
    public GatewayConfig bound() {
        return bound;
    }

    /** Returns the token buckets of every config version's rate limits. */
    public BucketStore buckets() {
        return buckets;
    }

    /** Returns the admin API served under {@code /admin}. */
    public AdminApi admin() {
        return admin;
    }

    /**
     * Returns the usage ledger: every request's tokens and cost per client, team, route, key and budget, for the
     * current UTC day and month and since start ({@link UsageLedger#snapshot()} for admin views and metrics).
     */
    public UsageLedger usage() {
        return usage;
    }

    /** Returns the recorder that counts each finished request into {@link #usage()}. Called by the handler. */
    public UsageRecorder usageRecorder() {
        return recorder;
    }

    /** Returns where every budget of the active config stands; empty when it has no budgets. */
    public List<BudgetState> budgetStates() {
        return active.get().budgets().map(BudgetFilter::states).orElseGet(List::of);
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
        ConfigWatcher w = watcher;
        if (w != null) {
            watcher = null;
            w.close();
        }
        reloader.shutdownNow();
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
        // After the event loops: every request that finished has been counted (and logged), so the last write has
        // it all.
        persistence.close();
        accessLogWriter.close();
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
