package dev.detour.server.upstream;

import dev.detour.config.TimeoutsConfig;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.GatewayResponse.BodyObserver;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.provider.ResponseTranslator;
import dev.detour.provider.StreamFailure;
import dev.detour.provider.UpstreamBody;
import dev.detour.provider.UpstreamVerdict;
import dev.detour.provider.UpstreamException;
import dev.detour.provider.UpstreamOrigin;
import dev.detour.provider.UpstreamRequest;
import dev.detour.server.HeaderMaps;
import dev.detour.server.ServerAttributes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import java.net.ConnectException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One request to an upstream and the relay of its response to the client.
 *
 * <p>Lifecycle: connect (or reuse a pooled connection) → write the request → wait for the response
 * head → then one of:
 * <ul>
 *   <li>an error status: read the (bounded) body and complete with a {@link GatewayResponse.Full};</li>
 *   <li>a success to translate whole (a foreign dialect, not streamed): read the body, translate it, and
 *       complete with a {@link GatewayResponse.Full};</li>
 *   <li>a stream: wait for its first event (translated when the dialect is foreign), and only then complete
 *       with a {@link GatewayResponse.Relayed}: until that moment the attempt can still fail over, since the
 *       client has seen nothing;</li>
 *   <li>any other success: complete with a {@link GatewayResponse.Relayed} at once.</li>
 * </ul>
 * Once the inbound side {@linkplain #start starts} a relay, each body chunk goes straight to the client
 * (through the translator, if any). The connection returns to the pool only after a complete,
 * keep-alive exchange; anything else closes it.
 *
 * <p>Concurrency: every method runs on the one event loop shared by the client connection and the
 * upstream connection, so no field needs synchronisation.
 *
 * <p>Ownership: body chunks arriving before {@link #start} are queued and owned here; once written to
 * the client they belong to the client pipeline. {@link #release()} frees whatever is still held, on
 * every path that ends the exchange (success, failure, timeout, cancel).
 */
final class UpstreamExchange implements ClientRelay, ServerAttributes.Cancellable {

    private enum State {
        CONNECTING, AWAITING_HEAD, READING_ERROR, READING_BODY, AWAITING_FIRST, PENDING_RELAY, RELAYING, DONE
    }

    private static final String BROKE_OFF = "The provider's answer broke off (the connection closed). "
                                            + "The answer is incomplete; retry the request.";
    private static final String STALLED = "The provider stopped sending its answer (timeout). "
                                          + "The answer is incomplete; retry the request.";

    /** Largest successful body read whole to translate it. */
    private static final int MAX_TRANSLATED_BODY = 64 * 1024 * 1024;

    private final UpstreamClient client;
    private final RequestContext ctx;
    private final UpstreamRequest request;
    private final UpstreamOrigin origin;
    private final EventLoop loop;
    private final ByteBuf body;
    private final CompletableFuture<GatewayResponse> result;
    private final TimeoutsConfig timeouts;
    /** The answer's translator, or {@code null}; dropped for an answer it does not apply to. Event loop only. */
    private ResponseTranslator translator;

    private State state = State.CONNECTING;
    private Channel channel;
    private UpstreamChannelHandler handler;
    private boolean reused;
    private boolean retried;
    private long sentNanos;
    private long lastReadNanos;
    /**
     * One timer for all three deadlines (total, first byte, idle): scheduling and cancelling a task on
     * the event loop's queue is the costly part, so it fires at the earliest deadline that may apply and
     * re-arms itself for the next one. This one is the exchange's own, used only while it connects; once
     * on a connection, the connection's watchdog ({@link UpstreamChannelHandler#watchAt}) serves instead,
     * which outlives exchanges.
     */
    private ScheduledFuture<?> watchdog;
    private long watchdogAt;
    /** Absolute {@link System#nanoTime()} deadlines; 0 when not armed. */
    private long totalDeadline;
    private long firstByteDeadline;

    private int status;
    private boolean keepAlive;
    private boolean eventStream;
    private long contentLength = -1;
    private ByteBuf errorBody;
    private ByteBuf translatedBody;
    private Headers headers;
    private ArrayDeque<HttpContent> pending;
    private String pendingFailure;

    private ChannelHandlerContext clientCtx;
    private Listener listener;
    private boolean needsFlush;
    private boolean paused;
    private long bytes;
    /** Who sees the relayed bytes (the response cache), or {@code null}; set to null once told how it ended. */
    private BodyObserver observer;
    private long chunks;

    UpstreamExchange(UpstreamClient client, RequestContext ctx, UpstreamRequest request, EventLoop loop, ByteBuf body,
                     CompletableFuture<GatewayResponse> result) {
        this.client = client;
        this.ctx = ctx;
        this.request = request;
        this.origin = request.origin();
        this.loop = loop;
        this.body = body;
        this.result = result;
        this.timeouts = request.timeouts();
        this.translator = request.translator();
    }

    void begin() {
        long total = timeouts.total().toNanos();
        if (total > 0) {
            totalDeadline = System.nanoTime() + total;
        }
        Channel pooled = client.pool().poll(origin);
        if (pooled != null) {
            reused = true;
            start(pooled); // arms the watchdog
        } else {
            connect();
        }
    }

    private void connect() {
        reused = false;
        state = State.CONNECTING;
        armWatchdog(); // the exchange's own timer until it has a connection
        int connectMillis = (int) Math.min(Integer.MAX_VALUE, timeouts.connect().toMillis());
        ChannelFuture cf = client.connect(loop, origin, connectMillis);
        cf.addListener(f -> {
            if (state != State.CONNECTING) {
                cf.channel().close(); // cancelled or timed out meanwhile
                return;
            }
            if (!f.isSuccess()) {
                fail(UpstreamException.Kind.CONNECT, describeConnectFailure(f.cause()));
                return;
            }
            SslHandler tls = UpstreamClient.tlsOf(cf.channel());
            if (tls == null) {
                start(cf.channel());
                return;
            }
            tls.handshakeFuture().addListener(h -> {
                if (state != State.CONNECTING) {
                    cf.channel().close();
                } else if (!h.isSuccess()) {
                    cf.channel().close();
                    fail(UpstreamException.Kind.CONNECT, "TLS handshake with " + origin.hostHeader() + " failed: "
                                                         + h.cause().getMessage());
                } else {
                    start(cf.channel());
                }
            });
        });
    }

    private void start(Channel ch) {
        channel = ch;
        handler = ch.pipeline().get(UpstreamChannelHandler.class);
        handler.attach(this);
        cancel(watchdog); // from now on the connection's watchdog serves
        watchdog = null;
        state = State.AWAITING_HEAD;
        sentNanos = System.nanoTime();
        ch.writeAndFlush(newRequest(ch)).addListener(w -> {
            if (!w.isSuccess() && state == State.AWAITING_HEAD && channel == ch) {
                onClosed(w.cause());
            }
        });
        long firstByte = timeouts.firstByte().toNanos();
        if (firstByte > 0) {
            firstByteDeadline = sentNanos + firstByte;
        }
        armWatchdog();
    }

    private FullHttpRequest newRequest(Channel ch) {
        ByteBuf content;
        UpstreamBody upstreamBody = request.body();
        if (upstreamBody instanceof UpstreamBody.Splice edit) {
            content = splice(ch, java.util.List.of(edit));
        } else if (upstreamBody instanceof UpstreamBody.Splices edits) {
            content = splice(ch, edits.parts());
        } else if (upstreamBody instanceof UpstreamBody.Replace replace) {
            content = Unpooled.wrappedBuffer(replace.bytes());
        } else {
            content = body.retainedDuplicate();
        }
        // No trailers map (a request with a length has none), and no per-header validation: every name and
        // value is Detour's own, decoded from the client's request, or from config checked at load time.
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, request.path(), content,
                                                       HeaderMaps.unvalidated(), EmptyHttpHeaders.INSTANCE);
        HttpHeaders h = r.headers();
        h.set(HttpHeaderNames.HOST, origin.hostHeader());
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
        Headers extra = request.headers();
        for (int i = 0; i < extra.size(); i++) {
            h.add(extra.rawName(i), extra.rawValue(i));
        }
        return r;
    }

    /** Returns the client's body with {@code edits} applied: retained slices around the new bytes, no copy. */
    private ByteBuf splice(Channel ch, java.util.List<UpstreamBody.Splice> edits) {
        int base = body.readerIndex();
        CompositeByteBuf composite = ch.alloc().compositeBuffer(2 * edits.size() + 1);
        int at = 0;
        for (UpstreamBody.Splice edit : edits) {
            if (edit.start() > at) {
                composite.addComponent(true, body.retainedSlice(base + at, edit.start() - at));
            }
            composite.addComponent(true, Unpooled.wrappedBuffer(edit.replacement()));
            at = edit.end();
        }
        if (body.readableBytes() > at) {
            composite.addComponent(true, body.retainedSlice(base + at, body.readableBytes() - at));
        }
        return composite;
    }

    void onHead(HttpResponse response) {
        if (state != State.AWAITING_HEAD) {
            return;
        }
        readHead(response);
        if (state != State.DONE) {
            armWatchdog(); // a no-op unless no deadline was armed before the idle timeout applied
        }
    }

    private void readHead(HttpResponse response) {
        if (response.decoderResult().isFailure()) {
            fail(UpstreamException.Kind.PROTOCOL, "invalid HTTP response from " + origin.hostHeader() + ": "
                                                  + response.decoderResult().cause().getMessage());
            return;
        }
        int code = response.status().code();
        if (code >= 100 && code < 200) {
            return; // informational: the real head follows
        }
        // The watchdog stays as it is: its next firing finds the head arrived and re-arms itself for the
        // idle and total deadlines, which saves a cancel and a schedule per exchange.
        firstByteDeadline = 0;
        long now = System.nanoTime();
        ctx.upstreamNanos(now - sentNanos);
        lastReadNanos = now;
        status = code;
        keepAlive = HttpUtil.isKeepAlive(response);
        headers = copyHeaders(response.headers());
        if (code >= 200 && code < 300) {
            String type = response.headers().get(HttpHeaderNames.CONTENT_TYPE);
            if (translator != null && translator.eventStreamsOnly()
                && (type == null || !type.regionMatches(true, 0, "text/event-stream", 0, 17))) {
                translator = null; // e.g. a usage-chunk filter, and the provider did not answer with a stream
            }
            if (translator != null) {
                eventStream = request.stream();
                headers = translatedHeaders(headers, eventStream);
                if (!eventStream) {
                    state = State.READING_BODY;
                    translatedBody = channel.alloc().heapBuffer(4096);
                    return;
                }
            } else {
                eventStream = type != null && type.regionMatches(true, 0, "text/event-stream", 0, 17);
                contentLength = HttpUtil.getContentLength(response, -1L);
            }
            if (eventStream) {
                state = State.AWAITING_FIRST;
                return;
            }
            state = State.PENDING_RELAY;
            result.complete(new GatewayResponse.Relayed(status, headers, this));
        } else {
            state = State.READING_ERROR;
            errorBody = channel.alloc().heapBuffer(512);
        }
    }

    void onContent(HttpContent content) {
        lastReadNanos = System.nanoTime();
        switch (state) {
            case READING_ERROR:
                int room = client.maxErrorBodySize() - errorBody.readableBytes();
                ByteBuf data = content.content();
                errorBody.writeBytes(data, data.readerIndex(), Math.min(room, data.readableBytes()));
                content.release();
                if (content instanceof LastHttpContent) {
                    finishError();
                }
                break;
            case READING_BODY:
                ByteBuf chunk = content.content();
                if (translatedBody.readableBytes() + chunk.readableBytes() > MAX_TRANSLATED_BODY) {
                    content.release();
                    fail(UpstreamException.Kind.PROTOCOL, origin.hostHeader() + " answered more than "
                                                          + MAX_TRANSLATED_BODY + " bytes");
                    return;
                }
                translatedBody.writeBytes(chunk);
                content.release();
                if (content instanceof LastHttpContent) {
                    finishTranslatedBody();
                }
                break;
            case AWAITING_FIRST:
            case PENDING_RELAY:
            case RELAYING:
                HttpContent out;
                try {
                    out = translator == null ? content : translate(content);
                } catch (StreamFailure f) {
                    streamFailed(f);
                    return;
                }
                if (state == State.RELAYING) {
                    forward(out);
                    return;
                }
                boolean last = out instanceof LastHttpContent;
                if (!out.content().isReadable() && !last) {
                    out.release(); // nothing for the client yet (a comment, a partial event)
                    return;
                }
                if (pending == null) {
                    pending = new ArrayDeque<>(4);
                }
                pending.add(out);
                // Hold further reads until the client side takes over, so the queue stays small.
                pauseUpstream();
                if (state == State.AWAITING_FIRST) {
                    // The first event is here: from now on the client will see this attempt's answer.
                    state = State.PENDING_RELAY;
                    result.complete(new GatewayResponse.Relayed(status, headers, this));
                }
                break;
            default:
                content.release();
                break;
        }
    }

    /** Returns the translation of {@code content}; releases {@code content}. */
    private HttpContent translate(HttpContent content) throws StreamFailure {
        ByteBuf out = channel == null ? Unpooled.buffer() : channel.alloc().buffer();
        boolean last = content instanceof LastHttpContent;
        try {
            ByteBuf in = content.content();
            ByteBufSink sink = new ByteBufSink(out);
            if (in.isReadable()) {
                ByteBuffer view = in.nioBufferCount() == 1 ? in.nioBuffer() : ByteBuffer.wrap(ByteBufUtil.getBytes(in));
                translator.translateStream(view, sink);
            }
            if (last) {
                translator.endStream(sink);
            }
        } catch (StreamFailure f) {
            out.release();
            throw f;
        } catch (ResponseTranslator.TranslationException e) {
            out.release();
            throw new StreamFailure(UpstreamVerdict.of(UpstreamVerdict.Kind.SERVER_ERROR, "untranslatable_stream"),
                                    "The provider sent a stream Detour could not translate: " + e.getMessage());
        } catch (RuntimeException e) {
            out.release();
            throw e;
        } finally {
            content.release();
        }
        return last ? new DefaultLastHttpContent(out) : new DefaultHttpContent(out);
    }

    private void streamFailed(StreamFailure f) {
        switch (state) {
            case AWAITING_FIRST:
                state = State.DONE;
                release();
                result.completeExceptionally(new UpstreamException(UpstreamException.Kind.STREAM_ERROR,
                                                                   f.clientMessage(), f.verdict()));
                break;
            case PENDING_RELAY:
                pendingFailure = f.clientMessage();
                detachAndClose();
                break;
            case RELAYING:
                detachAndClose();
                breakRelay(f.clientMessage());
                break;
            default:
                break;
        }
    }

    private void finishTranslatedBody() {
        byte[] upstreamBytes = ByteBufUtil.getBytes(translatedBody);
        translatedBody.release();
        translatedBody = null;
        state = State.DONE;
        cancelTimers();
        releaseConnection();
        byte[] translated;
        try {
            translated = translator.translateBody(upstreamBytes);
        } catch (ResponseTranslator.TranslationException e) {
            result.completeExceptionally(new UpstreamException(UpstreamException.Kind.PROTOCOL,
                    origin.hostHeader() + " answered in an unexpected format: " + e.getMessage()));
            return;
        }
        result.complete(new GatewayResponse.Full(status, headers, translated));
    }

    private static Headers translatedHeaders(Headers upstream, boolean stream) {
        Headers.Builder b = Headers.builder();
        b.add("content-type", stream ? "text/event-stream" : "application/json");
        if (stream) {
            b.add("cache-control", "no-cache");
        }
        String upstreamId = upstream.get("request-id");
        if (upstreamId == null) {
            upstreamId = upstream.get("x-amzn-requestid");
        }
        if (upstreamId != null) {
            b.add("x-detour-upstream-request-id", upstreamId);
        }
        // Rate-limit headers stay: the router reads them to cool a key before it answers 429, and
        // clients may pace themselves by them as they would against the provider directly.
        for (int i = 0; i < upstream.size(); i++) {
            String name = upstream.name(i).toLowerCase(java.util.Locale.ROOT);
            if (name.startsWith("x-ratelimit-") || name.startsWith("anthropic-ratelimit-")
                || name.startsWith("retry-after")) {
                b.add(upstream.name(i), upstream.value(i));
            }
        }
        return b.build();
    }

    void onReadComplete() {
        if (state == State.RELAYING && needsFlush) {
            needsFlush = false;
            clientCtx.flush();
        }
    }

    private void finishError() {
        byte[] bytesRead = ByteBufUtil.getBytes(errorBody);
        errorBody.release();
        errorBody = null;
        state = State.DONE;
        cancelTimers();
        releaseConnection();
        if (headers.get("content-type") == null) {
            headers = headers.with("content-type", "application/json");
        }
        result.complete(new GatewayResponse.Full(status, headers, bytesRead));
    }

    @Override
    public boolean isEventStream() {
        return eventStream;
    }

    @Override
    public long contentLength() {
        return contentLength;
    }

    @Override
    public boolean observe(BodyObserver newObserver) {
        if (state != State.PENDING_RELAY) {
            return false; // too late: part of the body may be gone already
        }
        observer = observer == null ? newObserver : BodyObserver.both(observer, newObserver);
        return true;
    }

    @Override
    public void start(ChannelHandlerContext client, Listener relayListener) {
        if (state != State.PENDING_RELAY) {
            return; // cancelled meanwhile
        }
        clientCtx = client;
        listener = relayListener;
        state = State.RELAYING;
        if (pending != null) {
            HttpContent c;
            while (state == State.RELAYING && (c = pending.poll()) != null) {
                forward(c);
            }
        }
        if (state != State.RELAYING) {
            return;
        }
        if (needsFlush) {
            needsFlush = false;
            clientCtx.flush();
        }
        if (pendingFailure != null) {
            breakRelay(pendingFailure);
            return;
        }
        if (clientCtx.channel().isWritable()) {
            resume();
        }
    }

    private void forward(HttpContent content) {
        ByteBuf data = content.content();
        bytes += data.readableBytes();
        if (eventStream && data.isReadable()) {
            chunks++;
        }
        // The server marks every request as needing its usage (accounting); contexts built without that
        // mark (tests, benchmarks) skip the scan.
        if (ctx.needsUsage() && data.isReadable()) {
            if (data.hasArray()) {
                ctx.usage().scan(data.array(), data.arrayOffset() + data.readerIndex(), data.readableBytes());
            } else {
                ctx.usage().scan(data.nioBuffer());
            }
        }
        if (observer != null && data.isReadable()) {
            // Before the write: once written, the buffer belongs to the client pipeline.
            showObserver(data);
            if (contentLength >= 0 && bytes >= contentLength) {
                // The announced length is complete: the client may have its answer before the (empty) last
                // part arrives, so the observer hears the end now, before the write that completes it.
                endObserver(true);
            }
        }
        if (content instanceof LastHttpContent) {
            state = State.DONE;
            cancelTimers();
            // Before the last write: a client that repeats the request once it has the answer finds it stored.
            endObserver(true);
            ChannelFuture last = clientCtx.writeAndFlush(content);
            needsFlush = false;
            releaseConnection();
            listener.relayCompleted(last, bytes);
            return;
        }
        clientCtx.write(content);
        needsFlush = true;
        if (!clientCtx.channel().isWritable()) {
            // Pause before flushing: the flush may drain the buffer and fire the writability event
            // at once, and that event must find the relay paused so that it resumes it.
            pauseUpstream();
            needsFlush = false;
            clientCtx.flush();
            if (clientCtx.channel().isWritable()) {
                resume();
            }
        }
    }

    @Override
    public long chunks() {
        return chunks;
    }

    @Override
    public void resume() {
        if (state == State.RELAYING && paused && channel != null) {
            paused = false;
            channel.config().setAutoRead(true);
        }
    }

    private void pauseUpstream() {
        if (!paused && channel != null) {
            paused = true;
            channel.config().setAutoRead(false);
        }
    }

    void onClosed(Throwable cause) {
        switch (state) {
            case AWAITING_HEAD:
                if (reused && !retried) {
                    // A pooled connection the upstream closed while idle: nothing reached it, so one
                    // retry on a fresh connection is safe.
                    retried = true;
                    firstByteDeadline = 0;
                    detachAndClose();
                    connect();
                    return;
                }
                fail(UpstreamException.Kind.CLOSED, origin.hostHeader() + " closed the connection before answering"
                                                    + (cause == null ? "" : ": " + cause.getMessage()));
                break;
            case READING_ERROR:
            case READING_BODY:
            case AWAITING_FIRST:
                fail(UpstreamException.Kind.CLOSED, origin.hostHeader() + " closed the connection mid-response");
                break;
            case PENDING_RELAY:
                pendingFailure = BROKE_OFF;
                channel = null;
                break;
            case RELAYING:
                breakRelay(BROKE_OFF);
                break;
            default:
                break;
        }
    }

    private void timeout(UpstreamException.Kind kind) {
        switch (state) {
            case CONNECTING:
            case AWAITING_HEAD:
            case READING_ERROR:
            case READING_BODY:
            case AWAITING_FIRST:
                fail(kind, origin.hostHeader() + " timed out (" + kind.name().toLowerCase() + ")");
                break;
            case PENDING_RELAY:
                pendingFailure = STALLED;
                detachAndClose();
                break;
            case RELAYING:
                detachAndClose();
                breakRelay(STALLED);
                break;
            default:
                break;
        }
    }

    private void showObserver(ByteBuf data) {
        int count = data.nioBufferCount();
        if (count == 1) {
            observer.onChunk(data.nioBuffer().asReadOnlyBuffer());
        } else if (count > 1) {
            for (ByteBuffer part : data.nioBuffers()) {
                observer.onChunk(part.asReadOnlyBuffer());
            }
        } else {
            observer.onChunk(ByteBuffer.wrap(ByteBufUtil.getBytes(data)).asReadOnlyBuffer());
        }
    }

    /** Tells the observer, if any, how the relay ended; once. */
    private void endObserver(boolean complete) {
        BodyObserver o = observer;
        if (o == null) {
            return;
        }
        observer = null;
        if (complete) {
            o.onComplete();
        } else {
            o.onAbort();
        }
    }

    private void breakRelay(String reason) {
        state = State.DONE;
        endObserver(false);
        if (needsFlush) {
            needsFlush = false;
            clientCtx.flush();
        }
        release();
        listener.relayFailed(reason, bytes);
    }

    private void fail(UpstreamException.Kind kind, String message) {
        state = State.DONE;
        release();
        result.completeExceptionally(new UpstreamException(kind, message));
    }

    /** Stops the exchange because the client went away or the chain dropped the response. */
    @Override
    public void cancel() {
        if (state == State.DONE) {
            return;
        }
        state = State.DONE;
        release();
        if (!result.isDone()) {
            result.completeExceptionally(new UpstreamException(UpstreamException.Kind.CLOSED, "cancelled"));
        }
    }

    @Override
    public void abort() {
        cancel();
    }

    private void release() {
        endObserver(false);
        cancelTimers();
        if (errorBody != null) {
            errorBody.release();
            errorBody = null;
        }
        if (translatedBody != null) {
            translatedBody.release();
            translatedBody = null;
        }
        if (pending != null) {
            HttpContent c;
            while ((c = pending.poll()) != null) {
                c.release();
            }
        }
        detachAndClose();
    }

    private void releaseConnection() {
        Channel ch = channel;
        channel = null;
        if (ch == null) {
            return;
        }
        handler.detach();
        handler = null;
        if (keepAlive && ch.isActive()) {
            if (paused) {
                paused = false;
                ch.config().setAutoRead(true);
            }
            client.recycle(origin, ch);
        } else {
            ch.close();
        }
    }

    private void detachAndClose() {
        Channel ch = channel;
        channel = null;
        if (ch != null) {
            handler.detach();
            handler = null;
            ch.close();
        }
    }

    /** Makes sure the watchdog fires no later than the earliest deadline that applies now. */
    private void armWatchdog() {
        long at = nextDeadline();
        if (at == 0) {
            return;
        }
        if (handler != null) {
            handler.watchAt(at);
            return;
        }
        if (watchdog != null && watchdogAt - at <= 0) {
            return;
        }
        cancel(watchdog);
        watchdogAt = at;
        watchdog = loop.schedule(this::onWatchdog, Math.max(0, at - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    /** Returns the earliest armed deadline, or 0 when none applies. */
    private long nextDeadline() {
        long at = earliest(totalDeadline, firstByteDeadline);
        return idleApplies() ? earliest(at, lastReadNanos + timeouts.idle().toNanos()) : at;
    }

    private static long earliest(long a, long b) {
        if (a == 0) {
            return b;
        }
        return b == 0 || a - b <= 0 ? a : b;
    }

    /** Returns whether the idle timeout watches this exchange: from the response head to its end. */
    private boolean idleApplies() {
        return !timeouts.idle().isZero()
               && (state == State.READING_ERROR || state == State.READING_BODY || state == State.AWAITING_FIRST
                   || state == State.PENDING_RELAY || state == State.RELAYING);
    }

    /** Checks the deadlines: called by this exchange's own timer, or by the connection's while attached. */
    void onWatchdog() {
        watchdog = null;
        if (state == State.DONE) {
            return;
        }
        long now = System.nanoTime();
        if (totalDeadline != 0 && now - totalDeadline >= 0) {
            timeout(UpstreamException.Kind.TOTAL_TIMEOUT);
            return;
        }
        if (firstByteDeadline != 0 && now - firstByteDeadline >= 0) {
            timeout(UpstreamException.Kind.FIRST_BYTE_TIMEOUT);
            return;
        }
        if (idleApplies()) {
            if (paused) {
                // A slow client is not an idle upstream: look again later.
                lastReadNanos = now;
            } else if (now - lastReadNanos >= timeouts.idle().toNanos()) {
                timeout(UpstreamException.Kind.IDLE_TIMEOUT);
                return;
            }
        }
        armWatchdog();
    }

    private void cancelTimers() {
        cancel(watchdog);
        watchdog = null;
        totalDeadline = 0;
        firstByteDeadline = 0;
    }

    private static void cancel(ScheduledFuture<?> timer) {
        if (timer != null) {
            timer.cancel(false);
        }
    }

    private String describeConnectFailure(Throwable cause) {
        if (cause instanceof ConnectTimeoutException) {
            return "connection to " + origin.hostHeader() + " timed out after " + timeouts.connect().toMillis() + " ms";
        }
        if (cause instanceof ConnectException) {
            return "connection to " + origin.hostHeader() + " refused";
        }
        return "cannot connect to " + origin.hostHeader() + ": " + cause.getMessage();
    }

    /** Copies the upstream's headers without hop-by-hop and framing ones, which the server sets itself. */
    static Headers copyHeaders(HttpHeaders upstream) {
        Headers.Builder b = Headers.builder();
        Iterator<Map.Entry<CharSequence, CharSequence>> it = upstream.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            if (contentEqualsIgnoreCase(e.getKey(), "x-request-id")) {
                // The client's x-request-id is Detour's; the provider's own stays visible under another name.
                b.add("x-detour-upstream-request-id", e.getValue().toString());
            } else if (!isHopByHop(e.getKey())) {
                // The decoder's own name (an AsciiString) and value go through as they are, not as new strings.
                b.addRaw(e.getKey(), e.getValue());
            }
        }
        return b.build();
    }

    private static boolean isHopByHop(CharSequence name) {
        return contentEqualsIgnoreCase(name, HttpHeaderNames.CONNECTION)
               || contentEqualsIgnoreCase(name, HttpHeaderNames.KEEP_ALIVE)
               || contentEqualsIgnoreCase(name, HttpHeaderNames.TRANSFER_ENCODING)
               || contentEqualsIgnoreCase(name, HttpHeaderNames.CONTENT_LENGTH)
               || contentEqualsIgnoreCase(name, HttpHeaderNames.TE)
               || contentEqualsIgnoreCase(name, HttpHeaderNames.TRAILER)
               || contentEqualsIgnoreCase(name, HttpHeaderNames.UPGRADE)
               || contentEqualsIgnoreCase(name, HttpHeaderNames.PROXY_AUTHENTICATE)
               || contentEqualsIgnoreCase(name, HttpHeaderNames.PROXY_AUTHORIZATION)
               || contentEqualsIgnoreCase(name, "x-request-id")
               || contentEqualsIgnoreCase(name, HttpHeaderNames.SET_COOKIE);
    }

    private static boolean contentEqualsIgnoreCase(CharSequence a, CharSequence b) {
        return io.netty.util.AsciiString.contentEqualsIgnoreCase(a, b);
    }
}
