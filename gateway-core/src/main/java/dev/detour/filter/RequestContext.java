package dev.detour.filter;

import dev.detour.api.Endpoint;
import dev.detour.api.SniffedRequest;
import dev.detour.catalog.Price;
import dev.detour.routing.Route;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Everything known about one request while it passes the chain.
 *
 * <p>One per request, mutable, and confined to the request's {@link #executor()}: no field needs
 * synchronisation because only that thread touches it (the chain hands results back to it).
 * Features keep their own state under typed {@link AttributeKey}s.
 */
public final class RequestContext {

    private final String requestId;
    private final Endpoint endpoint;
    private final RequestHeaders headers;
    private final RequestBody body;
    private final SniffedRequest sniffed;
    private final RequestExecutor executor;
    private final long startNanos;
    private Route route;
    private Map<AttributeKey<?>, Object> attributes;
    private RequestBody attemptBody;
    private Runnable[] onComplete;
    private volatile boolean cancelled;
    private Caller caller = Caller.ANONYMOUS;
    private String endUser;
    private String session;
    private String priority = "interactive";
    private String tier;
    private String policy = "-";
    private dev.detour.api.UsageScanner usage;
    private boolean needsUsage;
    private int onCompleteCount;

    // Filled in by the dispatcher, read by the access log and response headers.
    private String provider = "-";
    private String upstreamModel = "-";
    private String keyId = "-";
    private Price price = Price.UNKNOWN;
    private int attempts;
    private long upstreamNanos = -1;
    private long upstreamTotalNanos;
    private long waitedNanos;

    /**
     * Creates a context.
     *
     * @param startNanos the {@code System.nanoTime()}-style time the request arrived
     */
    public RequestContext(String requestId, Endpoint endpoint, RequestHeaders headers, RequestBody body,
                          SniffedRequest sniffed, Route route, RequestExecutor executor, long startNanos) {
        this.requestId = Objects.requireNonNull(requestId, "requestId");
        this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
        this.headers = Objects.requireNonNull(headers, "headers");
        this.body = Objects.requireNonNull(body, "body");
        this.sniffed = Objects.requireNonNull(sniffed, "sniffed");
        this.route = Objects.requireNonNull(route, "route");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.startNanos = startNanos;
    }

    /** Returns the request id: the client's {@code x-request-id}, or one Detour generated. */
    public String requestId() {
        return requestId;
    }

    /** Returns which API endpoint was called. */
    public Endpoint endpoint() {
        return endpoint;
    }

    /** Returns the client's request headers. */
    public RequestHeaders headers() {
        return headers;
    }

    /**
     * Returns the request body of the current attempt: the client's, still owned by the server, or the
     * one {@link #attemptBody(byte[])} set.
     */
    public RequestBody body() {
        return attemptBody != null ? attemptBody : body;
    }

    /** Returns whether the current attempt sends a body other than the client's. */
    public boolean bodyReplaced() {
        return attemptBody != null;
    }

    /** Returns the client's body as sent. */
    public RequestBody clientBody() {
        return body;
    }

    /**
     * Sets the body of the current attempt (a target's parameter overrides applied), or {@code null}
     * to go back to the client's.
     */
    public void attemptBody(byte[] bytes) {
        this.attemptBody = bytes == null ? null : new ByteArrayBody(bytes);
    }

    /** Returns the bytes of a body set with {@link #attemptBody(byte[])}, or {@code null}. */
    public byte[] attemptBodyBytes() {
        return attemptBody == null ? null : ((ByteArrayBody) attemptBody).bytes;
    }

    /** Returns who is calling; {@link Caller#ANONYMOUS} until authentication says otherwise. */
    public Caller caller() {
        return caller;
    }

    /** Sets who is calling. Called by the authentication filter. */
    public void caller(Caller newCaller) {
        this.caller = Objects.requireNonNull(newCaller, "newCaller");
    }

    /** Returns the end user (OpenAI {@code user}, or {@code x-detour-user} where allowed), or {@code null}. */
    public String endUser() {
        return endUser != null ? endUser : sniffed.user();
    }

    /** Sets the end user. */
    public void endUser(String user) {
        this.endUser = user;
    }

    /** Returns the session ({@code x-detour-session} where allowed), or {@code null}. */
    public String session() {
        return session;
    }

    /** Sets the session. */
    public void session(String newSession) {
        this.session = newSession;
    }

    /** Returns the priority: {@code critical}, {@code interactive} (the default) or {@code batch}. */
    public String priority() {
        return priority;
    }

    /** Sets the priority. */
    public void priority(String newPriority) {
        this.priority = Objects.requireNonNull(newPriority, "newPriority");
    }

    /** Returns the effective tier: an allowed {@code x-detour-tier}, else the caller's. */
    public String tier() {
        return tier != null ? tier : caller.tier();
    }

    /** Sets the effective tier. */
    public void tier(String newTier) {
        this.tier = newTier;
    }

    /** Returns the name of the policy that matched, or {@code -}. */
    public String policy() {
        return policy;
    }

    /** Sets the matched policy's name. */
    public void policy(String name) {
        this.policy = Objects.requireNonNull(name, "name");
    }

    /**
     * Returns the token usage of the response: read by the server from the bytes it writes to the client,
     * or reported by the response translator ({@link #usageSink()}); read it in {@link #onComplete} actions.
     */
    public dev.detour.api.UsageScanner usage() {
        if (usage == null) {
            usage = new dev.detour.api.UsageScanner();
        }
        return usage;
    }

    /**
     * Returns where a response translator reports the usage it parsed from the provider's answer: this
     * request's {@link #usage()} when someone {@linkplain #needsUsage() needs it}, else a sink that drops it.
     * Adapters call it when they prepare an attempt, after every filter has said whether it needs usage.
     */
    public dev.detour.api.UsageSink usageSink() {
        return needsUsage ? usage() : dev.detour.api.UsageSink.NONE;
    }

    /**
     * Says that someone needs this request's token usage (a token limit to settle, a key's token quota):
     * adapters then ask the provider for it on streams where the client did not.
     */
    public void needsUsage(boolean needed) {
        this.needsUsage |= needed;
    }

    /** Returns whether the request's token usage is needed. */
    public boolean needsUsage() {
        return needsUsage;
    }

    /** Marks the request as abandoned by its client: no further attempt is made. Any thread. */
    public void cancel() {
        cancelled = true;
    }

    /** Returns whether the client abandoned the request. */
    public boolean cancelled() {
        return cancelled;
    }

    /** Runs {@code action} when the response has been written whole, or the exchange ended otherwise. */
    public void onComplete(Runnable action) {
        if (onComplete == null) {
            onComplete = new Runnable[2];
        } else if (onCompleteCount == onComplete.length) {
            onComplete = java.util.Arrays.copyOf(onComplete, onCompleteCount * 2);
        }
        onComplete[onCompleteCount++] = action;
    }

    /** Runs the completion actions, once. Called by the server when the exchange ends. */
    public void complete() {
        Runnable[] actions = onComplete;
        int n = onCompleteCount;
        onComplete = null;
        onCompleteCount = 0;
        for (int i = 0; i < n; i++) {
            actions[i].run();
        }
    }

    /** Returns the fields sniffed from the body: model, stream, user. */
    public SniffedRequest sniffed() {
        return sniffed;
    }

    /** Returns whether the client asked for a stream. */
    public boolean stream() {
        return sniffed.stream();
    }

    /** Returns the route chosen from the requested model. */
    public Route route() {
        return route;
    }

    /** Replaces the route, for filters that redirect a request (e.g. a policy or a budget fallback). */
    public void route(Route newRoute) {
        this.route = Objects.requireNonNull(newRoute, "newRoute");
    }

    /** Returns the executor this request is confined to. */
    public RequestExecutor executor() {
        return executor;
    }

    /** Returns when the request arrived, in the server clock's nanoseconds. */
    public long startNanos() {
        return startNanos;
    }

    /** Returns the value under {@code key}, or {@code null}. */
    @SuppressWarnings("unchecked")
    public <T> T attr(AttributeKey<T> key) {
        return attributes == null ? null : (T) attributes.get(key);
    }

    /** Stores {@code value} under {@code key}; {@code null} removes it. */
    public <T> void attr(AttributeKey<T> key, T value) {
        if (value == null) {
            if (attributes != null) {
                attributes.remove(key);
            }
            return;
        }
        if (attributes == null) {
            attributes = new IdentityHashMap<>(4);
        }
        attributes.put(key, value);
    }

    /** Returns the provider of the last attempt, or {@code -}. */
    public String provider() {
        return provider;
    }

    /** Returns the upstream model of the last attempt, or {@code -}. */
    public String upstreamModel() {
        return upstreamModel;
    }

    /** Returns the key id of the last attempt, or {@code -}. */
    public String keyId() {
        return keyId;
    }

    /** Returns how many upstream attempts were made. */
    public int attempts() {
        return attempts;
    }

    /** Returns the list price of the upstream model of the last attempt, or {@link Price#UNKNOWN}. */
    public Price price() {
        return price;
    }

    /** Records the start of an attempt at {@code providerName}/{@code model} with key {@code key}, price unknown. */
    public void recordAttempt(String providerName, String model, String key) {
        recordAttempt(providerName, model, key, Price.UNKNOWN);
    }

    /**
     * Records the start of an attempt at {@code providerName}/{@code model} with key {@code key}; the usage of
     * the request is charged at {@code modelPrice}.
     */
    public void recordAttempt(String providerName, String model, String key, Price modelPrice) {
        this.provider = providerName;
        this.upstreamModel = model;
        this.keyId = key;
        this.price = Objects.requireNonNull(modelPrice, "modelPrice");
        this.attempts++;
    }

    private static final class ByteArrayBody implements RequestBody {
        private final byte[] bytes;

        ByteArrayBody(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public int length() {
            return bytes.length;
        }

        @Override
        public java.io.InputStream newInputStream() {
            return new java.io.ByteArrayInputStream(bytes);
        }
    }

    /** Returns the time from sending upstream to the response headers, in nanoseconds, or -1. */
    public long upstreamNanos() {
        return upstreamNanos;
    }

    /** Records the upstream's time to response headers. */
    public void upstreamNanos(long nanos) {
        this.upstreamNanos = nanos;
    }

    /**
     * Returns the time spent in upstream attempts, all of them together: each from sending to the moment its
     * answer (the response head; for a stream its first event; for a translated body the whole body) or its
     * failure came back. 0 before any attempt.
     */
    public long upstreamTotalNanos() {
        return upstreamTotalNanos;
    }

    /** Adds the time of one upstream attempt to {@link #upstreamTotalNanos()}. Called by the dispatcher. */
    public void addUpstreamTime(long nanos) {
        this.upstreamTotalNanos += nanos;
    }

    /** Returns how long the request waited for cooling keys or paused targets, in nanoseconds. */
    public long waitedNanos() {
        return waitedNanos;
    }

    /** Adds a wait for a cooling key or paused target to {@link #waitedNanos()}. Called by the dispatcher. */
    public void addWaitTime(long nanos) {
        this.waitedNanos += nanos;
    }
}
