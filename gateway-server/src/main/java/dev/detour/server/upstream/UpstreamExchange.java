package dev.detour.server.upstream;

import dev.detour.config.TimeoutsConfig;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.provider.BodyEdit;
import dev.detour.provider.UpstreamException;
import dev.detour.provider.UpstreamOrigin;
import dev.detour.provider.UpstreamRequest;
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
 * head → either read a (bounded) error body and complete with a {@link GatewayResponse.Full}, or
 * complete with a {@link GatewayResponse.Relayed} and, once the inbound side {@linkplain #start starts}
 * it, pass each body chunk straight to the client. The connection returns to the pool only after a
 * complete, keep-alive exchange; anything else closes it.
 *
 * <p>Concurrency: every method runs on the one event loop shared by the client connection and the
 * upstream connection, so no field needs synchronisation.
 *
 * <p>Ownership: body chunks arriving before {@link #start} are queued and owned here; once written to
 * the client they belong to the client pipeline. {@link #release()} frees whatever is still held, on
 * every path that ends the exchange (success, failure, timeout, cancel).
 */
final class UpstreamExchange implements ClientRelay, ServerAttributes.Cancellable {

    private enum State { CONNECTING, AWAITING_HEAD, READING_ERROR, PENDING_RELAY, RELAYING, DONE }

    private final UpstreamClient client;
    private final RequestContext ctx;
    private final UpstreamRequest request;
    private final UpstreamOrigin origin;
    private final EventLoop loop;
    private final ByteBuf body;
    private final CompletableFuture<GatewayResponse> result;
    private final TimeoutsConfig timeouts;

    private State state = State.CONNECTING;
    private Channel channel;
    private UpstreamChannelHandler handler;
    private boolean reused;
    private boolean retried;
    private long sentNanos;
    private long lastReadNanos;
    private ScheduledFuture<?> totalTimer;
    private ScheduledFuture<?> firstByteTimer;
    private ScheduledFuture<?> idleTimer;

    private int status;
    private boolean keepAlive;
    private boolean eventStream;
    private long contentLength = -1;
    private ByteBuf errorBody;
    private Headers headers;
    private ArrayDeque<HttpContent> pending;
    private String pendingFailure;

    private ChannelHandlerContext clientCtx;
    private Listener listener;
    private boolean needsFlush;
    private boolean paused;
    private long bytes;

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
    }

    void begin() {
        long total = timeouts.total().toNanos();
        if (total > 0) {
            totalTimer = loop.schedule(() -> timeout(UpstreamException.Kind.TOTAL_TIMEOUT), total,
                                       TimeUnit.NANOSECONDS);
        }
        Channel pooled = client.pool().poll(origin);
        if (pooled != null) {
            reused = true;
            start(pooled);
        } else {
            connect();
        }
    }

    private void connect() {
        reused = false;
        state = State.CONNECTING;
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
        state = State.AWAITING_HEAD;
        sentNanos = System.nanoTime();
        ch.writeAndFlush(newRequest(ch)).addListener(w -> {
            if (!w.isSuccess() && state == State.AWAITING_HEAD && channel == ch) {
                onClosed(w.cause());
            }
        });
        long firstByte = timeouts.firstByte().toNanos();
        if (firstByte > 0) {
            firstByteTimer = loop.schedule(() -> timeout(UpstreamException.Kind.FIRST_BYTE_TIMEOUT), firstByte,
                                           TimeUnit.NANOSECONDS);
        }
    }

    private FullHttpRequest newRequest(Channel ch) {
        ByteBuf content;
        BodyEdit edit = request.bodyEdit();
        int base = body.readerIndex();
        if (edit == null) {
            content = body.retainedDuplicate();
        } else {
            CompositeByteBuf composite = ch.alloc().compositeBuffer(3);
            composite.addComponent(true, body.retainedSlice(base, edit.start()));
            composite.addComponent(true, Unpooled.wrappedBuffer(edit.replacement()));
            composite.addComponent(true, body.retainedSlice(base + edit.end(), body.readableBytes() - edit.end()));
            content = composite;
        }
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, request.path(), content);
        HttpHeaders h = r.headers();
        h.set(HttpHeaderNames.HOST, origin.hostHeader());
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
        Headers extra = request.headers();
        for (int i = 0; i < extra.size(); i++) {
            h.add(extra.name(i), extra.value(i));
        }
        return r;
    }

    void onHead(HttpResponse response) {
        if (state != State.AWAITING_HEAD) {
            return;
        }
        if (response.decoderResult().isFailure()) {
            fail(UpstreamException.Kind.PROTOCOL, "invalid HTTP response from " + origin.hostHeader() + ": "
                                                  + response.decoderResult().cause().getMessage());
            return;
        }
        int code = response.status().code();
        if (code >= 100 && code < 200) {
            return; // informational: the real head follows
        }
        cancel(firstByteTimer);
        long now = System.nanoTime();
        ctx.upstreamNanos(now - sentNanos);
        lastReadNanos = now;
        status = code;
        keepAlive = HttpUtil.isKeepAlive(response);
        headers = copyHeaders(response.headers());
        scheduleIdleCheck(timeouts.idle().toNanos());
        if (code >= 200 && code < 300) {
            String type = response.headers().get(HttpHeaderNames.CONTENT_TYPE);
            eventStream = type != null && type.regionMatches(true, 0, "text/event-stream", 0, 17);
            contentLength = HttpUtil.getContentLength(response, -1L);
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
            case PENDING_RELAY:
                if (pending == null) {
                    pending = new ArrayDeque<>(4);
                }
                pending.add(content);
                // Hold further reads until the client side takes over, so the queue stays small.
                pauseUpstream();
                break;
            case RELAYING:
                forward(content);
                break;
            default:
                content.release();
                break;
        }
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
        bytes += content.content().readableBytes();
        if (content instanceof LastHttpContent) {
            state = State.DONE;
            cancelTimers();
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
                    cancel(firstByteTimer);
                    detachAndClose();
                    connect();
                    return;
                }
                fail(UpstreamException.Kind.CLOSED, origin.hostHeader() + " closed the connection before answering"
                                                    + (cause == null ? "" : ": " + cause.getMessage()));
                break;
            case READING_ERROR:
                fail(UpstreamException.Kind.CLOSED, origin.hostHeader() + " closed the connection mid-response");
                break;
            case PENDING_RELAY:
                pendingFailure = origin.hostHeader() + " closed the connection mid-response";
                channel = null;
                break;
            case RELAYING:
                breakRelay(origin.hostHeader() + " closed the connection mid-response");
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
                fail(kind, origin.hostHeader() + " timed out (" + kind.name().toLowerCase() + ")");
                break;
            case PENDING_RELAY:
                pendingFailure = "upstream timed out (" + kind.name().toLowerCase() + ")";
                detachAndClose();
                break;
            case RELAYING:
                detachAndClose();
                breakRelay("upstream timed out (" + kind.name().toLowerCase() + ")");
                break;
            default:
                break;
        }
    }

    private void breakRelay(String reason) {
        state = State.DONE;
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
        cancelTimers();
        if (errorBody != null) {
            errorBody.release();
            errorBody = null;
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
            ch.close();
        }
    }

    private void scheduleIdleCheck(long delayNanos) {
        if (timeouts.idle().isZero()) {
            return;
        }
        idleTimer = loop.schedule(this::checkIdle, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void checkIdle() {
        if (state != State.READING_ERROR && state != State.PENDING_RELAY && state != State.RELAYING) {
            return;
        }
        long idle = timeouts.idle().toNanos();
        if (paused) {
            // A slow client is not an idle upstream: look again later.
            lastReadNanos = System.nanoTime();
            scheduleIdleCheck(idle);
            return;
        }
        long silent = System.nanoTime() - lastReadNanos;
        if (silent >= idle) {
            timeout(UpstreamException.Kind.IDLE_TIMEOUT);
        } else {
            scheduleIdleCheck(idle - silent);
        }
    }

    private void cancelTimers() {
        cancel(totalTimer);
        cancel(firstByteTimer);
        cancel(idleTimer);
        totalTimer = null;
        firstByteTimer = null;
        idleTimer = null;
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
            if (!isHopByHop(e.getKey())) {
                b.add(e.getKey().toString(), e.getValue().toString());
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
