package dev.detour.server.inbound;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.detour.api.Endpoint;
import dev.detour.api.InvalidRequestException;
import dev.detour.api.RequestSniffer;
import dev.detour.api.SniffedRequest;
import dev.detour.config.MetricsConfig;
import dev.detour.error.ErrorKind;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.filter.RequestExecutor;
import dev.detour.routing.Route;
import dev.detour.server.accesslog.AccessLog;
import dev.detour.server.ActiveConfig;
import dev.detour.server.GatewayServer;
import dev.detour.server.ServerAttributes;
import dev.detour.server.HeaderMaps;
import dev.detour.server.admin.AdminRequest;
import dev.detour.server.metrics.GatewayMetrics;
import dev.detour.server.metrics.MetricsEndpoint;
import dev.detour.server.upstream.ClientRelay;
import dev.detour.usage.RequestUsage;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the requests of one client connection, one at a time and in order.
 *
 * <p>HTTP/1.1 pipelining: requests that arrive while one is being served are queued and reading
 * pauses, so responses go out in request order and a client cannot queue without bound.
 *
 * <p>Ownership: the aggregated request stays owned here until its response has been written (an
 * upstream attempt writes a retained duplicate), and is released exactly once in {@link Exchange#finish}.
 *
 * <p>Paths under {@code /admin} go to the server's {@link dev.detour.server.admin.AdminApi}, which may answer
 * later from another thread (a reload); the answer is written back on this connection's loop.
 *
 * <p>One per connection; every method runs on the connection's event loop.
 */
public final class InboundRequestHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(InboundRequestHandler.class);
    /** Access-log values of {@link dev.detour.cache.CacheOutcome}, by ordinal: no string built per request. */
    private static final String[] CACHE_LABELS = cacheLabels();
    private static final JsonFactory JSON = new JsonFactory();
    private static final byte[] HEALTHY = "{\"status\":\"ok\"}".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] READY = "{\"status\":\"ready\"}".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_QUEUED = 16;
    // Header names Detour writes on every answer, as AsciiString: hashed once, copied to the wire as bytes.
    private static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
    private static final AsciiString X_DETOUR_ROUTE = AsciiString.cached("x-detour-route");
    private static final AsciiString X_DETOUR_PROVIDER = AsciiString.cached("x-detour-provider");
    private static final AsciiString X_DETOUR_MODEL = AsciiString.cached("x-detour-model");
    private static final AsciiString X_DETOUR_KEY_ID = AsciiString.cached("x-detour-key-id");
    private static final AsciiString X_DETOUR_ATTEMPTS = AsciiString.cached("x-detour-attempts");
    private static final String[] SMALL_COUNTS = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    private static final byte[] EMPTY = new byte[0];

    private final GatewayServer server;
    private final ArrayDeque<FullHttpRequest> queued = new ArrayDeque<>(2);
    private Exchange current;
    /** When the last answer ended (or the connection opened): idleness counts from there too. */
    private long lastAnswerNanos;
    private EventLoopExecutor executor;

    /** Creates a handler for one connection of {@code server}. */
    public InboundRequestHandler(GatewayServer server) {
        this.server = server;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        executor = EventLoopExecutor.of(ctx.channel().eventLoop());
        lastAnswerNanos = System.nanoTime();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (current != null) {
            queued.add(request);
            if (queued.size() >= MAX_QUEUED) {
                ctx.channel().config().setAutoRead(false);
            }
            return;
        }
        serve(ctx, request);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Exchange ex = current;
        if (ex != null && ex.relay != null && ctx.channel().isWritable()) {
            ex.relay.resume();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Exchange ex = current;
        if (ex != null) {
            ex.clientGone();
        }
        FullHttpRequest r;
        while ((r = queued.poll()) != null) {
            r.release();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            // The idle handler watches reads only (watching writes costs a listener on every write); an
            // answer being written, or written less than the idle timeout ago, keeps the connection.
            long idleNanos = server.active().config().server().idleTimeout().toNanos();
            if (current == null && queued.isEmpty() && System.nanoTime() - lastAnswerNanos >= idleNanos) {
                ctx.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            LOG.debug("client connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        } else {
            LOG.warn("unexpected error on client connection {}", ctx.channel().remoteAddress(), cause);
        }
        ctx.close();
    }

    private void serve(ChannelHandlerContext ctx, FullHttpRequest request) {
        String requestId = request.headers().get("x-request-id");
        if (requestId == null || !RequestIds.isAcceptable(requestId)) {
            requestId = RequestIds.newId();
        }
        Exchange ex = new Exchange(ctx, request, requestId, server.active());
        current = ex;
        server.requestStarted();
        ex.run();
    }

    private void next(ChannelHandlerContext ctx) {
        current = null;
        FullHttpRequest r = queued.poll();
        if (r != null) {
            serve(ctx, r);
        } else if (!ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    /** One request and its response. */
    private final class Exchange implements ClientRelay.Listener {
        private final ChannelHandlerContext ctx;
        private final FullHttpRequest request;
        private final String requestId;
        private final ActiveConfig active;
        private final AccessLog.Entry log = new AccessLog.Entry();
        private final long startNanos = System.nanoTime();
        /** When the response head was handed to the channel; 0 until then. */
        private long headNanos;
        /** Whether this is a call of the API (counted in the request metrics) rather than health, admin or metrics. */
        private boolean api;
        private boolean keepAlive;
        private RequestContext rctx;
        private ClientRelay relay;
        private boolean finished;
        private boolean gone;

        Exchange(ChannelHandlerContext ctx, FullHttpRequest request, String requestId, ActiveConfig active) {
            this.ctx = ctx;
            this.request = request;
            this.requestId = requestId;
            this.active = active;
            this.keepAlive = HttpUtil.isKeepAlive(request);
            log.requestId = requestId;
            log.method = request.method().name();
            log.path = pathOf(request.uri());
            log.bytesIn = request.content().readableBytes();
        }

        void run() {
            if (request.decoderResult().isFailure()) {
                keepAlive = false;
                Throwable cause = request.decoderResult().cause();
                if (cause instanceof TooLongHttpLineException) {
                    writeFull(ErrorResponses.of(ErrorKind.URI_TOO_LONG,
                            "The request line is too long (server.max-initial-line-length).", "uri_too_long", null));
                } else if (cause instanceof TooLongHttpHeaderException || cause instanceof TooLongFrameException) {
                    writeFull(ErrorResponses.of(ErrorKind.HEADERS_TOO_LARGE,
                            "The request headers are too large (server.max-header-size).", "headers_too_large",
                            null));
                } else {
                    writeFull(ErrorResponses.of(ErrorKind.INVALID_REQUEST, "Malformed HTTP request.",
                                                "malformed_http", null));
                }
                return;
            }
            String path = log.path;
            HttpMethod method = request.method();
            Endpoint endpoint = Endpoint.ofPath(path);
            if (endpoint != null) {
                api = true;
                server.metrics().requestStarted();
                if (!HttpMethod.POST.equals(method)) {
                    writeMethodNotAllowed("POST");
                    return;
                }
                serveApi(endpoint);
                return;
            }
            MetricsConfig metrics = active.config().metrics();
            if (path.equals(metrics.path()) && metrics.enabled() && !metrics.separateListener()
                && server.metrics().enabled()) {
                MetricsEndpoint.respond(server.metrics(), metrics, active.admin(), method.name(),
                                        name -> request.headers().get(name))
                        .thenAccept(scrape -> ctx.executor().execute(() -> writeScrape(scrape)));
                return;
            }
            switch (path) {
                case "/healthz":
                    serveGet(method, HEALTHY, 200);
                    return;
                case "/readyz":
                    boolean ready = server.ready();
                    serveGet(method, ready ? READY : "{\"status\":\"not ready\"}".getBytes(StandardCharsets.US_ASCII),
                             ready ? 200 : 503);
                    return;
                case "/v1/models":
                    serveGet(method, active.routes().modelListJson(), 200);
                    return;
                default:
                    break;
            }
            if (path.equals("/admin") || path.startsWith("/admin/")) {
                serveAdmin(method, path);
                return;
            }
            if (path.startsWith("/v1/models/")) {
                // The SDKs percent-encode ids such as "meta-llama/llama-3.1-8b"; '+' is literal in a path.
                serveModel(method, QueryStringDecoder.decodeComponent(
                        path.substring("/v1/models/".length()).replace("+", "%2B")));
                return;
            }
            writeFull(ErrorResponses.of(ErrorKind.NOT_FOUND, "Unknown path '" + path + "'. Detour serves "
                    + "POST /v1/chat/completions, /v1/completions and /v1/embeddings, and GET /v1/models.",
                    "unknown_url", null));
        }

        private void serveGet(HttpMethod method, byte[] body, int status) {
            if (!HttpMethod.GET.equals(method) && !HttpMethod.HEAD.equals(method)) {
                writeMethodNotAllowed("GET");
                return;
            }
            writeFull(new GatewayResponse.Full(status, Headers.of("content-type", "application/json"), body));
        }

        private void serveAdmin(HttpMethod method, String path) {
            byte[] body = request.content().isReadable() ? ByteBufUtil.getBytes(request.content()) : EMPTY;
            AdminRequest admin = new AdminRequest(method.name(), path,
                                                  new QueryStringDecoder(request.uri()).parameters(),
                                                  name -> request.headers().get(name), ctx.channel().remoteAddress(),
                                                  body, active);
            CompletionStage<GatewayResponse.Full> answer;
            try {
                answer = server.admin().handle(admin);
            } catch (RuntimeException e) {
                answer = CompletableFuture.failedFuture(e);
            }
            answer.whenComplete((response, error) -> {
                if (ctx.executor().inEventLoop()) {
                    onAdminResponse(response, error);
                } else {
                    ctx.executor().execute(() -> onAdminResponse(response, error));
                }
            });
        }

        private void onAdminResponse(GatewayResponse.Full response, Throwable error) {
            if (finished || gone) {
                return;
            }
            if (error != null) {
                Throwable cause = error instanceof CompletionException && error.getCause() != null
                                  ? error.getCause() : error;
                LOG.error("request {} to the admin API failed inside the gateway", requestId, cause);
                log.outcome = "internal_error";
                writeFull(ErrorResponses.of(ErrorKind.INTERNAL, "The gateway failed to handle this admin request "
                        + "(request id " + requestId + "). Try again; if it persists, report the request id.",
                        "internal_error", null));
                return;
            }
            writeFull(response);
        }

        private void serveModel(HttpMethod method, String model) {
            Route route = active.routes().route(model);
            if (route == null) {
                writeFull(ErrorResponses.of(ErrorKind.NOT_FOUND, "The model '" + model + "' does not exist on this "
                        + "gateway. Available models: " + active.routes().describeModels() + ".",
                        "model_not_found", "model"));
                return;
            }
            serveGet(method, renderModel(route, active.routes().created()), 200);
        }

        private void serveApi(Endpoint endpoint) {
            String contentType = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
            if (contentType != null && !isJson(contentType)) {
                writeFull(ErrorResponses.of(ErrorKind.UNSUPPORTED_MEDIA_TYPE, "Content-Type '" + contentType
                        + "' is not supported. Send the body as JSON with 'Content-Type: application/json'.",
                        "unsupported_media_type", null));
                return;
            }
            SniffedRequest sniffed;
            try {
                sniffed = RequestSniffer.sniff(new ByteBufInputStream(request.content().duplicate()));
            } catch (InvalidRequestException e) {
                writeFull(ErrorResponses.of(ErrorKind.INVALID_REQUEST, e.getMessage(), e.code(), e.param()));
                return;
            }
            log.model = sniffed.model();
            Route route = active.routes().route(sniffed.model());
            if (route == null) {
                writeFull(ErrorResponses.of(ErrorKind.NOT_FOUND, "The model '" + sniffed.model()
                        + "' does not exist on this gateway. Available models: " + active.routes().describeModels()
                        + ".", "model_not_found", "model"));
                return;
            }
            if (sniffed.stream() && !endpoint.streamable()) {
                writeFull(ErrorResponses.of(ErrorKind.INVALID_REQUEST, "'stream' is not supported on "
                        + endpoint.path() + ". Remove it or set it to false.", "invalid_value", "stream"));
                return;
            }
            rctx = new RequestContext(requestId, endpoint, name -> request.headers().get(name),
                                      new ByteBufRequestBody(request.content()), sniffed, route, executor,
                                      startNanos);
            // Usage is always accounted (per client, team, route and key, and for budgets): read it from every
            // answer, and ask providers for a stream's usage the client did not ask for.
            rctx.needsUsage(true);
            rctx.attr(ServerAttributes.EVENT_LOOP, ctx.channel().eventLoop());
            rctx.attr(ServerAttributes.BODY, request.content());
            active.pipeline().execute(rctx).whenComplete((response, error) -> {
                if (ctx.executor().inEventLoop()) {
                    onResponse(response, error);
                } else {
                    ctx.executor().execute(() -> onResponse(response, error));
                }
            });
        }

        private void onResponse(GatewayResponse response, Throwable error) {
            rctx.attr(ServerAttributes.IN_FLIGHT, null);
            if (finished || gone) {
                // The client left while the chain ran: drop what it produced.
                if (response instanceof GatewayResponse.Relayed relayed) {
                    relayed.body().abort();
                }
                return;
            }
            if (error != null) {
                Throwable cause = error instanceof CompletionException && error.getCause() != null
                                  ? error.getCause() : error;
                LOG.error("request {} failed inside the gateway", requestId, cause);
                log.outcome = "internal_error";
                writeFull(ErrorResponses.of(ErrorKind.INTERNAL, "The gateway failed to handle this request "
                        + "(request id " + requestId + "). Try again; if it persists, report the request id.",
                        "internal_error", null));
                return;
            }
            if (response instanceof GatewayResponse.Full full) {
                writeFull(full);
            } else {
                writeRelayed((GatewayResponse.Relayed) response);
            }
        }

        /** Writes a scrape rendered on the metrics thread, unless the client left meanwhile. */
        private void writeScrape(GatewayResponse.Full scrape) {
            if (!finished && !gone) {
                writeFull(scrape);
            }
        }

        private void writeFull(GatewayResponse.Full full) {
            headNanos = System.nanoTime();
            log.status = full.status();
            if (rctx != null && rctx.needsUsage() && full.status() < 300) {
                rctx.usage().scan(full.body(), 0, full.body().length);
            }
            log.bytesOut = full.body().length;
            boolean head = HttpMethod.HEAD.equals(request.method());
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.valueOf(full.status()),
                    head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(full.body()),
                    HeaderMaps.unvalidated(), EmptyHttpHeaders.INSTANCE);
            HttpHeaders h = response.headers();
            copy(full.headers(), h);
            h.setInt(HttpHeaderNames.CONTENT_LENGTH, full.body().length);
            decorate(h, full.status());
            ChannelFuture f = ctx.writeAndFlush(response);
            f.addListener(done -> finish(done.isSuccess() ? null : "client_closed"));
        }

        private void writeRelayed(GatewayResponse.Relayed relayed) {
            headNanos = System.nanoTime();
            log.status = relayed.status();
            relay = (ClientRelay) relayed.body();
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1,
                                                        HttpResponseStatus.valueOf(relayed.status()),
                                                        HeaderMaps.unvalidated());
            HttpHeaders h = head.headers();
            copy(relayed.headers(), h);
            long length = relay.contentLength();
            // Streams are always chunked towards the client, whatever framing the upstream used.
            if (length >= 0 && !relay.isEventStream()) {
                h.set(HttpHeaderNames.CONTENT_LENGTH, length);
            } else {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
            decorate(h, relayed.status());
            if (relay.isEventStream()) {
                ctx.writeAndFlush(head); // the client sees the 200 before the first event
            } else {
                ctx.write(head);
            }
            relay.start(ctx, this);
        }

        private void decorate(HttpHeaders h, int status) {
            h.set(X_REQUEST_ID, requestId);
            if (rctx != null && rctx.attempts() > 0) {
                int attempts = rctx.attempts();
                h.set(X_DETOUR_ROUTE, rctx.route().model());
                h.set(X_DETOUR_PROVIDER, rctx.provider());
                h.set(X_DETOUR_MODEL, rctx.upstreamModel());
                h.set(X_DETOUR_KEY_ID, rctx.keyId());
                h.set(X_DETOUR_ATTEMPTS, attempts < SMALL_COUNTS.length ? SMALL_COUNTS[attempts]
                                                                        : Integer.toString(attempts));
            }
            if (server.draining()) {
                keepAlive = false;
            }
            if (!keepAlive) {
                h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            } else if (request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
                h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
        }

        private void writeMethodNotAllowed(String allowed) {
            GatewayResponse.Full error = ErrorResponses.of(ErrorKind.METHOD_NOT_ALLOWED, "Method "
                    + request.method().name() + " is not allowed on " + log.path + ". Use " + allowed + ".",
                    "method_not_allowed", null);
            writeFull(new GatewayResponse.Full(error.status(), error.headers().with("allow", allowed), error.body()));
        }

        @Override
        public void relayCompleted(ChannelFuture lastWrite, long bytes) {
            log.bytesOut = bytes;
            lastWrite.addListener(done -> finish(done.isSuccess() ? null : "client_closed"));
        }

        @Override
        public void relayFailed(String clientMessage, long bytes) {
            log.bytesOut = bytes;
            log.outcome = "upstream_broken";
            LOG.warn("request {}: upstream response broke off after {} bytes: {}", requestId, bytes, clientMessage);
            if (relay.isEventStream() && ctx.channel().isActive()) {
                // End the stream the way OpenAI reports an error after the 200: a data line holding an
                // error object, then a well-formed end of the chunked body.
                byte[] event = sseError(clientMessage);
                ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(event)));
                ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT)
                   .addListener(done -> finish(done.isSuccess() ? "upstream_broken" : "client_closed"));
                return;
            }
            // A JSON body cannot be ended cleanly once part of it is out: closing tells the client it is cut.
            keepAlive = false;
            ctx.close();
            finish("upstream_broken");
        }

        private void recordMetrics(long end, RequestUsage used) {
            GatewayMetrics metrics = server.metrics();
            long head = (headNanos != 0 ? headNanos : end) - startNanos;
            if (rctx == null) {
                metrics.requestRefused(log.status, end - startNanos, head);
            } else {
                metrics.requestFinished(rctx, log.status, end - startNanos, head, relay == null ? 0 : relay.chunks(),
                                        used);
            }
        }

        void clientGone() {
            if (finished) {
                return;
            }
            // Set before cancelling: cancelling completes the chain at once, and its answer must be dropped,
            // not mistaken for an internal error and written to a closed connection.
            gone = true;
            if (rctx != null) {
                rctx.cancel();
                ServerAttributes.Cancellable inFlight = rctx.attr(ServerAttributes.IN_FLIGHT);
                if (inFlight != null) {
                    inFlight.cancel();
                }
            }
            if (relay != null) {
                relay.abort();
            }
            if (log.status == 0) {
                log.status = 499;
            }
            finish("client_closed");
        }

        private void finish(String outcome) {
            if (finished) {
                return;
            }
            finished = true;
            if (outcome != null && "ok".equals(log.outcome)) {
                log.outcome = outcome;
            }
            RequestUsage used = RequestUsage.NONE;
            if (rctx != null) {
                rctx.complete();
                try {
                    used = server.usageRecorder().record(rctx);
                } catch (RuntimeException e) {
                    // A bug in accounting must not keep the exchange from finishing (buffer, next request).
                    LOG.error("request {}: counting its usage failed", requestId, e);
                }
                log.promptTokens = used.promptTokens();
                log.completionTokens = used.completionTokens();
                log.cachedTokens = used.cachedTokens();
                log.costMicros = used.costMicros();
                log.client = rctx.caller().client();
                log.policy = rctx.policy();
                log.provider = rctx.provider();
                log.upstreamModel = rctx.upstreamModel();
                log.keyId = rctx.keyId();
                log.attempts = rctx.attempts();
                log.upstreamNanos = rctx.upstreamNanos();
                dev.detour.cache.CacheOutcome cached = rctx.attr(dev.detour.cache.CacheFilter.OUTCOME);
                if (cached != null) {
                    log.cache = CACHE_LABELS[cached.ordinal()];
                }
            }
            long end = System.nanoTime();
            lastAnswerNanos = end;
            log.latencyNanos = end - startNanos;
            // Hands the entry over to the access log's writer: nothing below (or after finished) touches it again.
            active.accessLog().log(log);
            if (api) {
                recordMetrics(end, used);
            }
            request.release();
            server.requestFinished();
            if (current != this) {
                return;
            }
            if (!keepAlive || !ctx.channel().isActive()) {
                current = null;
                ctx.close();
                return;
            }
            next(ctx);
        }
    }

    private static void copy(Headers from, HttpHeaders to) {
        for (int i = 0; i < from.size(); i++) {
            to.add(from.rawName(i), from.rawValue(i));
        }
    }

    private static boolean isJson(String contentType) {
        int semi = contentType.indexOf(';');
        String type = (semi < 0 ? contentType : contentType.substring(0, semi)).trim();
        return type.equalsIgnoreCase("application/json") || type.regionMatches(true, type.length() - 5, "+json", 0, 5)
               && type.length() > 5;
    }

    private static String pathOf(String uri) {
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        if (path.length() > 1 && path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        return path;
    }

    private static byte[] sseError(String message) {
        byte[] json = ErrorResponses.body("upstream_error", message, "stream_interrupted", null);
        byte[] event = new byte[json.length + 8];
        System.arraycopy("data: ".getBytes(StandardCharsets.US_ASCII), 0, event, 0, 6);
        System.arraycopy(json, 0, event, 6, json.length);
        event[event.length - 2] = '\n';
        event[event.length - 1] = '\n';
        return event;
    }

    private static byte[] renderModel(Route route, long created) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        try (JsonGenerator gen = JSON.createGenerator(out)) {
            gen.writeStartObject();
            gen.writeStringField("id", route.model());
            gen.writeStringField("object", "model");
            gen.writeNumberField("created", created);
            gen.writeStringField("owned_by", route.targets().get(0).provider().name());
            gen.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The event loop as the core's {@link RequestExecutor}; one per loop, shared by its connections. */
    static final class EventLoopExecutor implements RequestExecutor {
        private static final io.netty.util.concurrent.FastThreadLocal<EventLoopExecutor> BY_LOOP =
                new io.netty.util.concurrent.FastThreadLocal<>();
        private final io.netty.channel.EventLoop loop;

        private EventLoopExecutor(io.netty.channel.EventLoop loop) {
            this.loop = loop;
        }

        static EventLoopExecutor of(io.netty.channel.EventLoop loop) {
            if (loop.inEventLoop()) {
                EventLoopExecutor e = BY_LOOP.get();
                if (e == null || e.loop != loop) {
                    e = new EventLoopExecutor(loop);
                    BY_LOOP.set(e);
                }
                return e;
            }
            return new EventLoopExecutor(loop);
        }

        @Override
        public boolean inExecutor() {
            return loop.inEventLoop();
        }

        @Override
        public void execute(Runnable command) {
            loop.execute(command);
        }

        @Override
        public Cancellable schedule(Runnable command, long delayNanos) {
            io.netty.util.concurrent.ScheduledFuture<?> f =
                    loop.schedule(command, delayNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
            return () -> f.cancel(false);
        }
    }

    private static String[] cacheLabels() {
        dev.detour.cache.CacheOutcome[] outcomes = dev.detour.cache.CacheOutcome.values();
        String[] labels = new String[outcomes.length];
        for (int i = 0; i < outcomes.length; i++) {
            labels[i] = outcomes[i].name().toLowerCase(java.util.Locale.ROOT);
        }
        return labels;
    }
}
