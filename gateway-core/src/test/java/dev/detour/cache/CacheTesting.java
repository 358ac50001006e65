package dev.detour.cache;

import dev.detour.api.Endpoint;
import dev.detour.api.InvalidRequestException;
import dev.detour.api.RequestSniffer;
import dev.detour.api.SniffedRequest;
import dev.detour.config.ConfigException;
import dev.detour.config.ConfigLoader;
import dev.detour.config.GatewayConfig;
import dev.detour.filter.Caller;
import dev.detour.filter.FilterChain;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestBody;
import dev.detour.filter.RequestContext;
import dev.detour.filter.RequestExecutor;
import dev.detour.routing.RouteTable;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/** Config, contexts, answers and a scriptable upstream for cache tests; no sockets. */
final class CacheTesting {

    static final String CHAT = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    static final String CHAT_STREAM = "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\","
                                      + "\"content\":\"hi\"}]}";
    static final String ANSWER = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1700000000,"
            + "\"model\":\"up-model\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
            + "\"Hello there\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":"
            + "{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}";
    static final String STREAM = """
            data: {"id":"chatcmpl-2","object":"chat.completion.chunk","created":1700000001,"model":"up-model",\
            "choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}

            data: {"id":"chatcmpl-2","object":"chat.completion.chunk","created":1700000001,"model":"up-model",\
            "choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}

            data: {"id":"chatcmpl-2","object":"chat.completion.chunk","created":1700000001,"model":"up-model",\
            "choices":[{"index":0,"delta":{"content":" there"},"finish_reason":null}]}

            data: {"id":"chatcmpl-2","object":"chat.completion.chunk","created":1700000001,"model":"up-model",\
            "choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}

            data: {"id":"chatcmpl-2","object":"chat.completion.chunk","created":1700000001,"model":"up-model",\
            "choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}

            data: [DONE]

            """;

    private static final String PROVIDERS = """
            providers:
              mock:
                type: mock
            """;

    private CacheTesting() {
    }

    /** Returns a config of a mock provider, {@code routes} (YAML list items) and any top-level {@code extra}. */
    static GatewayConfig config(String routes, String extra) {
        try {
            return ConfigLoader.parse(PROVIDERS + "routes:\n" + routes + extra, "test.yaml", Map.of());
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** Returns a config with route {@code m} caching (route settings {@code routeCache}, YAML flow mapping body). */
    static GatewayConfig cachingConfig(String routeCache, String extra) {
        return config("""
                  - model: m
                    targets: [{provider: mock}]
                    cache: {enabled: true%s}
                  - model: plain
                    targets: [{provider: mock}]
                """.formatted(routeCache.isEmpty() ? "" : ", " + routeCache), extra);
    }

    /** A request to build: body, endpoint, headers and caller. */
    static final class Request {
        private final GatewayConfig config;
        private final RouteTable routes;
        private String body = CHAT;
        private Endpoint endpoint = Endpoint.CHAT_COMPLETIONS;
        private final Map<String, String> headers = new HashMap<>();
        private Caller caller = Caller.ANONYMOUS;
        private RequestExecutor executor = RequestExecutor.DIRECT;

        Request(GatewayConfig config, RouteTable routes) {
            this.config = config;
            this.routes = routes;
        }

        Request body(String json) {
            this.body = json;
            return this;
        }

        Request endpoint(Endpoint e) {
            this.endpoint = e;
            return this;
        }

        Request header(String name, String value) {
            headers.put(name.toLowerCase(Locale.ROOT), value);
            return this;
        }

        Request caller(String client, String team) {
            this.caller = new Caller(client, team, "default", Map.of(), Set.of());
            return this;
        }

        Request executor(RequestExecutor e) {
            this.executor = e;
            return this;
        }

        RequestContext build() {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            SniffedRequest sniffed;
            try {
                sniffed = RequestSniffer.sniff(new ByteArrayInputStream(bytes));
            } catch (InvalidRequestException e) {
                sniffed = new SniffedRequest("m", false, null, 0, 1);
            }
            RequestBody requestBody = new RequestBody() {
                @Override
                public int length() {
                    return bytes.length;
                }

                @Override
                public InputStream newInputStream() {
                    return new ByteArrayInputStream(bytes);
                }
            };
            RequestContext ctx = new RequestContext("req", endpoint, name -> headers.get(name.toString()
                    .toLowerCase(Locale.ROOT)), requestBody, sniffed, routes.route(sniffed.model()), executor, 0L);
            ctx.caller(caller);
            return ctx;
        }
    }

    /** A terminal chain that counts calls and answers what the test scripts. */
    static final class Upstream implements FilterChain {
        private Function<RequestContext, GatewayResponse> answer = ctx -> json(ANSWER);
        int calls;
        final List<CompletableFuture<GatewayResponse>> held = new ArrayList<>();
        private boolean hold;

        Upstream answering(Function<RequestContext, GatewayResponse> fn) {
            this.answer = fn;
            return this;
        }

        /** Makes later calls return stages the test completes through {@link #held}. */
        Upstream holding() {
            this.hold = true;
            return this;
        }

        @Override
        public CompletionStage<GatewayResponse> proceed(RequestContext ctx) {
            calls++;
            if (hold) {
                CompletableFuture<GatewayResponse> f = new CompletableFuture<>();
                held.add(f);
                return f;
            }
            return CompletableFuture.completedFuture(answer.apply(ctx));
        }
    }

    static GatewayResponse.Full json(String body) {
        return new GatewayResponse.Full(200, Headers.of("content-type", "application/json"),
                                        body.getBytes(StandardCharsets.UTF_8));
    }

    static GatewayResponse.Full error(int status) {
        return new GatewayResponse.Full(status, Headers.of("content-type", "application/json"),
                                        "{\"error\":{\"message\":\"no\"}}".getBytes(StandardCharsets.UTF_8));
    }

    /** A relayed body the test plays, chunk by chunk, to whoever observes it. */
    static final class PlayedBody implements GatewayResponse.RelayedBody {
        private final boolean eventStream;
        GatewayResponse.BodyObserver observer;
        boolean aborted;

        PlayedBody(boolean eventStream) {
            this.eventStream = eventStream;
        }

        @Override
        public boolean isEventStream() {
            return eventStream;
        }

        @Override
        public void abort() {
            aborted = true;
            if (observer != null) {
                observer.onAbort();
                observer = null;
            }
        }

        @Override
        public boolean observe(GatewayResponse.BodyObserver o) {
            observer = observer == null ? o : GatewayResponse.BodyObserver.both(observer, o);
            return true;
        }

        /** Plays {@code text} in pieces of {@code piece} bytes, then ends normally. */
        void play(String text, int piece) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < bytes.length; i += piece) {
                if (observer != null) {
                    observer.onChunk(ByteBuffer.wrap(bytes, i, Math.min(piece, bytes.length - i)).asReadOnlyBuffer());
                }
            }
            if (observer != null) {
                observer.onComplete();
                observer = null;
            }
        }

        GatewayResponse.Relayed response() {
            return new GatewayResponse.Relayed(200, eventStream ? Headers.of("content-type", "text/event-stream")
                                                                : Headers.of("content-type", "application/json"),
                                               this);
        }
    }

    static String text(GatewayResponse r) {
        return new String(((GatewayResponse.Full) r).body(), StandardCharsets.UTF_8);
    }
}
