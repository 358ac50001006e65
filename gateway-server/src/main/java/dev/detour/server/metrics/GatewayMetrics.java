package dev.detour.server.metrics;

import dev.detour.config.LimitConfig;
import dev.detour.config.MetricsConfig;
import dev.detour.config.RetryTrigger;
import dev.detour.filter.RequestContext;
import dev.detour.cache.CacheFilter;
import dev.detour.cache.CacheOutcome;
import dev.detour.metrics.CacheStatsSource;
import dev.detour.metrics.GatewayEvents;
import dev.detour.provider.UpstreamVerdict;
import dev.detour.routing.Route;
import dev.detour.usage.RequestUsage;
import dev.detour.routing.RouteTable;
import dev.detour.server.accesslog.AccessLogWriter;
import dev.detour.server.upstream.UpstreamClient;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.config.MeterFilterReply;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The gateway's meters, one set per server, rendered in the Prometheus text format or OpenMetrics.
 *
 * <p>What it measures, and where it hears it:
 * <ul>
 *   <li>per request (the inbound handler calls {@link #requestFinished} where it writes the access log): count by
 *       route, provider, upstream model, status class and cache result; duration; Detour's overhead; upstream
 *       time to first byte; stream chunks; tokens and cost by client, team, route and model;</li>
 *   <li>inside the chain ({@link GatewayEvents}, called by dispatch and rate limiting): attempts by outcome,
 *       retries and fallbacks by reason, rate-limit refusals by limit and scope;</li>
 *   <li>at scrape time ({@link StateCollector}): key states, circuit breakers and the response cache, read from
 *       the route table in force at that moment, so a hot reload shows at the next scrape;</li>
 *   <li>JVM, process and Netty allocator meters from Micrometer's binders; upstream connections; config
 *       reloads ({@link #configReloaded}).</li>
 * </ul>
 *
 * <p>Cardinality: every label value is a name from the configuration or an enum constant, never a request id,
 * end user or key. Meters are resolved once per label set and kept ({@link MeterCache}), so the hot path does
 * map lookups by strings it already holds and allocates nothing once a label set has been seen.
 *
 * <p>Lifecycle: built when the server starts, closed when it stops. With {@code metrics.enabled: false} the
 * instance records nothing and serves nothing ({@link #enabled()}). Thread-safe.
 */
public final class GatewayMetrics implements GatewayEvents, AutoCloseable {

    /** Content type of the Prometheus text format. */
    public static final String TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";
    /** Content type of OpenMetrics text. */
    public static final String OPENMETRICS_FORMAT = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    static final String ROUTE = "route";
    static final String PROVIDER = "provider";
    static final String MODEL = "model";
    /** The label value of a request without a route or an upstream attempt. */
    static final String NONE = "none";

    /** Scrapes waiting to be rendered at most; more at once are refused rather than queued without bound. */
    private static final int MAX_QUEUED_SCRAPES = 8;
    private static final int MAX_ROUTES = 1000;
    private static final int MAX_LIMITS = 1000;
    private static final LimitConfig.Scope[] SCOPES = LimitConfig.Scope.values();

    private final boolean enabled;
    private final PrometheusMeterRegistry registry;
    private final MeterCache<RouteMeters> routes;
    private final MeterCache<AtomicReferenceArray<Counter>> rateLimited;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Counter reloadsSucceeded;
    private final Counter reloadsFailed;
    /** The wall clock, in milliseconds since the epoch: when a configuration was loaded. */
    private final LongSupplier wallMillis;
    private final AtomicLong lastLoadMillis;
    private final AtomicReference<CacheStatsSource> cache = new AtomicReference<>(CacheStatsSource.NONE);
    private final JvmGcMetrics gc;
    /** Renders scrapes off the event loops: JVM and OS binders read MXBeans and /proc, milliseconds at times. */
    private final ThreadPoolExecutor scraper;

    private GatewayMetrics(boolean enabled, Supplier<RouteTable> routeTable, UpstreamClient upstream,
                           LongSupplier wallMillis) {
        this.enabled = enabled;
        this.wallMillis = wallMillis;
        this.lastLoadMillis = new AtomicLong(wallMillis.getAsLong());
        this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().meterFilter(new PrometheusLint());
        this.routes = new MeterCache<>(MAX_ROUTES, route -> new RouteMeters(registry, route));
        this.rateLimited = new MeterCache<>(MAX_LIMITS, limit -> new AtomicReferenceArray<>(SCOPES.length * 2));
        this.reloadsSucceeded = reloads("success");
        this.reloadsFailed = reloads("failure");
        if (!enabled) {
            this.gc = null;
            this.scraper = null;
            return;
        }
        this.scraper = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
                                              new ArrayBlockingQueue<>(MAX_QUEUED_SCRAPES),
                                              new DefaultThreadFactory("detour-metrics", true));
        Gauge.builder("detour.requests.in.flight", inFlight, AtomicInteger::get)
                .description("API requests being served now.")
                .register(registry);
        Gauge.builder("detour.config.last.load.timestamp", lastLoadMillis, millis -> millis.get() / 1000.0)
                .description("When the configuration in force was loaded (start or last successful reload), "
                             + "in seconds since the epoch.")
                .baseUnit("seconds")
                .register(registry);
        // Two counters read one after the other: clamp the moment a connection moves between them.
        Gauge.builder("detour.upstream.connections", upstream,
                      u -> Math.max(0, u.openConnections() - u.idleConnections()))
                .description("Upstream connections open now, by state: active (carrying an exchange) or idle "
                             + "(pooled for reuse).")
                .tag("state", "active")
                .register(registry);
        Gauge.builder("detour.upstream.connections", upstream, UpstreamClient::idleConnections)
                .description("Upstream connections open now, by state: active (carrying an exchange) or idle "
                             + "(pooled for reuse).")
                .tag("state", "idle")
                .register(registry);
        FunctionCounter.builder("detour.upstream.connections.opened", upstream, UpstreamClient::connectionsOpened)
                .description("Upstream connections established (TCP, and TLS where used).")
                .register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        this.gc = new JvmGcMetrics();
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        bindProcessCpu();
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider allocator) {
            bindAllocator(allocator.metric(), allocator.getClass().getSimpleName());
        }
        registry.getPrometheusRegistry().register(new StateCollector(routeTable, cache::get));
    }

    /**
     * Returns the meters of a server; when {@code config} disables metrics, an instance that records nothing.
     *
     * @param routeTable the route table in force, read at each scrape (a reload may replace it at any time)
     * @param upstream   the upstream client, whose connections are counted
     */
    public static GatewayMetrics create(MetricsConfig config, Supplier<RouteTable> routeTable,
                                        UpstreamClient upstream) {
        return create(config, routeTable, upstream, System::currentTimeMillis);
    }

    /** Returns the meters of a server that reads the wall clock from {@code wallMillis}; tests pass their own. */
    static GatewayMetrics create(MetricsConfig config, Supplier<RouteTable> routeTable, UpstreamClient upstream,
                                 LongSupplier wallMillis) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(routeTable, "routeTable");
        Objects.requireNonNull(upstream, "upstream");
        Objects.requireNonNull(wallMillis, "wallMillis");
        return new GatewayMetrics(config.enabled(), routeTable, upstream, wallMillis);
    }

    /** Returns whether metrics are kept and served. */
    public boolean enabled() {
        return enabled;
    }

    /** Counts an API request in. Called on the request's event loop when it arrives. */
    public void requestStarted() {
        if (enabled) {
            inFlight.incrementAndGet();
        }
    }

    /**
     * Counts an API request out that ended before it had a context (malformed, unknown model, wrong method or
     * content type), under route, provider and model {@code none}.
     *
     * @param status     the status answered (499 when the client left)
     * @param totalNanos from arrival to the end of the exchange
     * @param headNanos  from arrival to the response head handed to the client
     */
    public void requestRefused(int status, long totalNanos, long headNanos) {
        if (!enabled) {
            return;
        }
        inFlight.decrementAndGet();
        RouteMeters route = routes.get(NONE);
        route.target(NONE, NONE).requests(status, null).increment();
        route.duration.record(totalNanos, TimeUnit.NANOSECONDS);
        route.overhead.record(Math.max(0, headNanos), TimeUnit.NANOSECONDS);
    }

    /**
     * Counts an API request out that went through the chain. Called on the request's event loop when its
     * exchange ends (response written, client gone, or relay broken), after {@code ctx}'s completion actions.
     *
     * @param ctx        the request's context
     * @param status     the status answered (499 when the client left before one)
     * @param totalNanos from arrival to the end of the exchange
     * @param headNanos  from arrival to the response head handed to the client; {@code totalNanos} without one
     * @param chunks     event-stream chunks written to the client
     * @param used       the usage accounting counted for the request ({@code UsageRecorder}): its tokens and cost
     *                   are published as they were accounted, not worked out a second time
     */
    public void requestFinished(RequestContext ctx, int status, long totalNanos, long headNanos, long chunks,
                                RequestUsage used) {
        if (!enabled) {
            return;
        }
        inFlight.decrementAndGet();
        Route route = ctx.route();
        RouteMeters routeMeters = routes.get(route.model());
        boolean attempted = ctx.attempts() > 0;
        String provider = attempted ? ctx.provider() : NONE;
        String model = attempted ? ctx.upstreamModel() : NONE;
        TargetMeters target = routeMeters.target(provider, model);
        CacheOutcome cacheResult = ctx.attr(CacheFilter.OUTCOME);
        target.requests(status, cacheResult).increment();
        routeMeters.duration.record(totalNanos, TimeUnit.NANOSECONDS);
        long overhead = headNanos - ctx.upstreamTotalNanos() - ctx.waitedNanos();
        routeMeters.overhead.record(Math.max(0, overhead), TimeUnit.NANOSECONDS);
        if (attempted && ctx.upstreamNanos() >= 0) {
            target.ttfb().record(ctx.upstreamNanos(), TimeUnit.NANOSECONDS);
        }
        if (chunks > 0) {
            target.chunks().increment(chunks);
        }
        // A cache hit cost nothing upstream, whatever usage its stored answer reports.
        if (attempted && cacheResult != CacheOutcome.HIT && cacheResult != CacheOutcome.STALE) {
            recordUsage(ctx, target, used);
        }
    }

    /**
     * Counts a configuration reload: {@code ok} when the new configuration is in force, otherwise a reload that
     * was refused (the old one stays). The hot-reload code calls this once per attempt.
     */
    public void configReloaded(boolean ok) {
        if (!enabled) {
            return;
        }
        if (ok) {
            reloadsSucceeded.increment();
            lastLoadMillis.set(wallMillis.getAsLong());
        } else {
            reloadsFailed.increment();
        }
    }

    /**
     * Publishes the access-log lines {@code writer} could not write: dropped because its queue was full, or lost
     * because writing failed. Call once, at start-up.
     */
    public void accessLog(AccessLogWriter writer) {
        Objects.requireNonNull(writer, "writer");
        if (!enabled) {
            return;
        }
        String help = "Access-log lines not written, by reason: queue_full (dropped, stdout could not keep up with "
                      + "the requests) or write_failed (writing to stdout failed).";
        FunctionCounter.builder("detour.access.log.dropped", writer, AccessLogWriter::dropped)
                .description(help)
                .tag("reason", "queue_full")
                .register(registry);
        FunctionCounter.builder("detour.access.log.dropped", writer, AccessLogWriter::failed)
                .description(help)
                .tag("reason", "write_failed")
                .register(registry);
    }

    /**
     * Sets where the response cache's counts are read at each scrape; {@link CacheStatsSource#NONE} (the
     * default) leaves the cache metrics out.
     */
    public void cacheStats(CacheStatsSource source) {
        cache.set(Objects.requireNonNull(source, "source"));
    }

    @Override
    public void attemptEnded(String route, String provider, String model, UpstreamVerdict.Kind outcome) {
        if (enabled) {
            routes.get(route).target(provider, model).attempts(outcome).increment();
        }
    }

    @Override
    public void retried(String route, String provider, String model, RetryTrigger reason) {
        if (enabled) {
            routes.get(route).target(provider, model).retries(reason).increment();
        }
    }

    @Override
    public void fellBack(String route, String provider, String model, RetryTrigger reason) {
        if (enabled) {
            routes.get(route).target(provider, model).fallbacks(reason).increment();
        }
    }

    @Override
    public void rateLimited(String limit, LimitConfig.Scope scope, boolean shadow) {
        if (!enabled) {
            return;
        }
        AtomicReferenceArray<Counter> byScope = rateLimited.get(limit);
        int i = scope.ordinal() * 2 + (shadow ? 1 : 0);
        Counter c = byScope.get(i);
        if (c == null) {
            c = Counter.builder("detour.rate.limited.requests")
                    .description("Requests a rate limit refused (mode enforced), or would have refused (mode "
                                 + "shadow), by limit name and scope.")
                    .tag("limit", limit)
                    .tag("scope", scope.yamlName())
                    .tag("mode", shadow ? "shadow" : "enforced")
                    .register(registry);
            byScope.set(i, c);
        }
        c.increment();
    }

    /**
     * Returns every meter in the Prometheus text format, or OpenMetrics when {@code openMetrics}. The answer is as
     * large as the series are many: bounded by the configuration's names, never by traffic.
     */
    public byte[] scrape(boolean openMetrics) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(32 * 1024);
        try {
            registry.scrape(out, openMetrics ? OPENMETRICS_FORMAT : TEXT_FORMAT);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not throw
        }
        return out.toByteArray();
    }

    /**
     * Renders a scrape on the metrics thread, never on the caller's; the stage completes there, or at once with a
     * {@link RejectedExecutionException} when {@value #MAX_QUEUED_SCRAPES} scrapes already wait, or when metrics are
     * disabled or closed.
     */
    public CompletableFuture<byte[]> scrapeAsync(boolean openMetrics) {
        if (scraper == null) {
            return CompletableFuture.failedFuture(new RejectedExecutionException("metrics are disabled"));
        }
        try {
            return CompletableFuture.supplyAsync(() -> scrape(openMetrics), scraper);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Returns the Micrometer registry, for tests and for binding further meters. */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    @Override
    public void close() {
        if (scraper != null) {
            scraper.shutdownNow();
        }
        if (gc != null) {
            gc.close();
        }
        registry.close();
    }

    /**
     * Publishes the memory Netty's buffer allocator holds. Micrometer's Netty binder publishes the same figures
     * without a unit or help text, which Prometheus's lint rejects; these name the unit and say what they count.
     */
    private void bindAllocator(ByteBufAllocatorMetric allocator, String type) {
        String help = "Memory held by Netty's default buffer allocator (pooled chunks, not only buffers in use), "
                      + "by memory type.";
        Gauge.builder("netty.allocator.memory.used", allocator, ByteBufAllocatorMetric::usedHeapMemory)
                .description(help)
                .baseUnit("bytes")
                .tags("allocator", type, "memory_type", "heap")
                .register(registry);
        Gauge.builder("netty.allocator.memory.used", allocator, ByteBufAllocatorMetric::usedDirectMemory)
                .description(help)
                .baseUnit("bytes")
                .tags("allocator", type, "memory_type", "direct")
                .register(registry);
    }

    /** Publishes the process's CPU time as Prometheus names it, in seconds ({@link PrometheusLint}). */
    private void bindProcessCpu() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            FunctionCounter.builder("process.cpu", os, o -> Math.max(0, o.getProcessCpuTime()) / 1e9)
                    .description("CPU time the JVM process used, all threads together.")
                    .baseUnit("seconds")
                    .register(registry);
        }
    }

    private Counter reloads(String result) {
        return Counter.builder("detour.config.reloads")
                .description("Configuration reloads by result: success (the new configuration is in force) or "
                             + "failure (refused; the previous one stays).")
                .tag("result", result)
                .register(registry);
    }

    private static void recordUsage(RequestContext ctx, TargetMeters target, RequestUsage used) {
        long prompt = Math.max(0, used.promptTokens());
        long completion = Math.max(0, used.completionTokens());
        if (prompt == 0 && completion == 0) {
            return;
        }
        UsageMeters meters = target.usage(ctx.caller().client(), ctx.caller().team());
        meters.promptTokens.increment(prompt);
        meters.completionTokens.increment(completion);
        if (used.costMicros() > 0) {
            meters.cost.increment(used.costMicros() / 1e6);
        }
    }

    /**
     * Keeps Micrometer's binders within Prometheus's naming rules, which {@code promtool check metrics} enforces:
     * {@code process.cpu.time} is published in nanoseconds ({@code process_cpu_time_ns_total}, an abbreviated
     * non-base unit) and replaced by {@code process_cpu_seconds_total}; {@code system.cpu.count} would end in
     * {@code _count}, which only histograms and summaries may use, and becomes {@code system_cpu_processors}.
     */
    private static final class PrometheusLint implements MeterFilter {
        @Override
        public MeterFilterReply accept(Meter.Id id) {
            return id.getName().equals("process.cpu.time") ? MeterFilterReply.DENY : MeterFilterReply.NEUTRAL;
        }

        @Override
        public Meter.Id map(Meter.Id id) {
            return id.getName().equals("system.cpu.count") ? id.withName("system.cpu.processors") : id;
        }
    }
}
