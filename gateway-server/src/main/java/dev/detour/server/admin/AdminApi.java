package dev.detour.server.admin;

import dev.detour.error.ErrorKind;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.GatewayResponse;
import dev.detour.server.GatewayServer;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * The admin API under {@code /admin}: checks who is calling, then dispatches method and path to a view.
 *
 * <p>Who may call, for every {@code /admin} path: with {@code auth.admin-keys} configured, a caller presenting
 * one of them, from any address (401 {@code invalid_admin_key} otherwise); without admin keys, loopback callers
 * only (403 {@code admin_local_only} otherwise). The check comes first, so an unauthorised caller cannot probe
 * which paths exist. Then an unknown path is a 404 {@code unknown_url} and a known path with another method a
 * 405 naming the allowed ones, both OpenAI-shaped.
 *
 * <p>A view is one line in {@link #standard}:
 * <pre>{@code
 * .get("/admin/cache", request -> CacheView.render(server.cache()))          // GET and HEAD, 200 JSON
 * .post("/admin/keys/{provider}/{id}/{action}", new KeyAction())             // any answer, sync or async
 * }</pre>
 * Patterns are literal segments and {@code {name}} segments, which match one percent-decoded segment and are
 * read with {@link AdminRequest#param}.
 *
 * <p>Immutable and thread-safe; built once per server. Called on the caller's event loop.
 */
public final class AdminApi {

    private final List<Endpoint> endpoints;

    private AdminApi(List<Endpoint> endpoints) {
        this.endpoints = List.copyOf(endpoints);
    }

    /** Returns the admin API of {@code server} with every built-in view. */
    public static AdminApi standard(GatewayServer server) {
        Objects.requireNonNull(server, "server");
        return builder()
                .get("/admin/config", request -> ConfigView.render(server, request.active()))
                .get("/admin/routes", request -> RoutesView.render(request.active(), System.nanoTime()))
                .get("/admin/pools", request -> PoolsView.render(request.active().routes(), System.nanoTime()))
                .get("/admin/breakers", request -> BreakersView.render(request.active().routes(), System.nanoTime()))
                .get("/admin/limits", request -> LimitsView.render(request.active(), server.buckets()))
                .get("/admin/usage", request -> UsageView.render(server.usage().snapshot()))
                .get("/admin/budgets", request -> BudgetsView.render(
                        request.active().budgets().map(b -> b.states()).orElseGet(java.util.List::of)))
                .get("/admin/cache", request -> CacheView.render(server.cache().stats()))
                .post("/admin/cache/clear", CacheView.clear(server.cache()))
                .post("/admin/reload", new ReloadAction(server))
                .post("/admin/keys/{provider}/{id}/{action}", KeyAction.INSTANCE)
                .post("/admin/keys/{id}/{action}", KeyAction.INSTANCE)
                .build();
    }

    /** Returns a builder for an API with no views yet. */
    public static Builder builder() {
        return new Builder();
    }

    /** Returns the patterns served, with their methods, e.g. {@code GET /admin/pools}; for docs and errors. */
    public List<String> describe() {
        List<String> out = new ArrayList<>(endpoints.size());
        for (Endpoint e : endpoints) {
            out.add(e.method + " " + e.pattern);
        }
        return out;
    }

    /**
     * Answers {@code request}: checks the caller, then runs the view its method and path match.
     *
     * <p>Called on the caller's event loop. The stage may complete on another thread.
     */
    public CompletionStage<GatewayResponse.Full> handle(AdminRequest request) {
        GatewayResponse.Full refused = authorise(request);
        if (refused != null) {
            return CompletableFuture.completedFuture(refused);
        }
        String[] segments = split(request.path());
        Set<String> allowed = new LinkedHashSet<>();
        String method = "HEAD".equals(request.method()) ? "GET" : request.method();
        for (Endpoint e : endpoints) {
            Map<String, String> params = e.match(segments);
            if (params == null) {
                continue;
            }
            if (!e.method.equals(method)) {
                allowed.add(e.method);
                continue;
            }
            try {
                return e.view.serve(request.withParams(params));
            } catch (RuntimeException ex) {
                return CompletableFuture.failedFuture(ex);
            }
        }
        if (!allowed.isEmpty()) {
            String allow = String.join(", ", allowed.contains("GET") ? withHead(allowed) : allowed);
            GatewayResponse.Full error = ErrorResponses.of(ErrorKind.METHOD_NOT_ALLOWED, "Method " + request.method()
                    + " is not allowed on " + request.path() + ". Use " + String.join(" or ", allowed) + ".",
                    "method_not_allowed", null);
            return CompletableFuture.completedFuture(
                    new GatewayResponse.Full(error.status(), error.headers().with("allow", allow), error.body()));
        }
        return CompletableFuture.completedFuture(ErrorResponses.of(ErrorKind.NOT_FOUND, "Unknown admin path '"
                + request.path() + "'. The admin API serves: " + String.join(", ", describe())
                + " (docs/operations.md).", "unknown_url", null));
    }

    private static GatewayResponse.Full authorise(AdminRequest request) {
        if (request.active().admin().configured()) {
            // With admin keys configured, a key is required from every address, this machine included.
            if (!request.active().admin().allows(request.headers())) {
                return ErrorResponses.of(ErrorKind.AUTHENTICATION, "Admin endpoints need an admin key (one of "
                        + "auth.admin-keys), sent as 'Authorization: Bearer YOUR_KEY' or in an x-api-key header; none "
                        + "was sent, or it is not an admin key.", "invalid_admin_key", null);
            }
            return null;
        }
        // Without admin keys, admin views are served to this machine only.
        if (!request.fromLoopback()) {
            return ErrorResponses.of(ErrorKind.PERMISSION, "Admin endpoints are served to localhost only "
                    + "(configure auth.admin-keys to call them from elsewhere).", "admin_local_only", null);
        }
        return null;
    }

    private static Set<String> withHead(Set<String> allowed) {
        Set<String> out = new LinkedHashSet<>(allowed);
        out.add("HEAD");
        return out;
    }

    private static String[] split(String path) {
        String p = path.startsWith("/") ? path.substring(1) : path;
        return p.isEmpty() ? new String[0] : p.split("/", -1);
    }

    /** Collects views; {@link #build()} freezes them. Not thread-safe. */
    public static final class Builder {
        private final List<Endpoint> endpoints = new ArrayList<>();

        private Builder() {
        }

        /** Serves {@code GET} (and {@code HEAD}) on {@code pattern} with 200 and the JSON {@code render} returns. */
        public Builder get(String pattern, Function<AdminRequest, byte[]> render) {
            Objects.requireNonNull(render, "render");
            return route("GET", pattern,
                         request -> CompletableFuture.completedFuture(AdminJson.response(200, render.apply(request))));
        }

        /** Serves {@code POST} on {@code pattern} with {@code view}. */
        public Builder post(String pattern, AdminView view) {
            return route("POST", pattern, view);
        }

        /** Serves {@code method} on {@code pattern} with {@code view}. */
        public Builder route(String method, String pattern, AdminView view) {
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(view, "view");
            if (!pattern.startsWith("/admin/")) {
                throw new IllegalArgumentException("pattern: '" + pattern + "' (expected: /admin/...)");
            }
            for (Endpoint e : endpoints) {
                if (e.method.equals(method) && e.pattern.equals(pattern)) {
                    throw new IllegalStateException(method + " " + pattern + " is already registered");
                }
            }
            endpoints.add(new Endpoint(method, pattern, split(pattern), view));
            return this;
        }

        /** Returns the API. */
        public AdminApi build() {
            return new AdminApi(endpoints);
        }
    }

    /** One method and path pattern with its view. */
    private static final class Endpoint {
        final String method;
        final String pattern;
        final String[] segments;
        final AdminView view;

        Endpoint(String method, String pattern, String[] segments, AdminView view) {
            this.method = method;
            this.pattern = pattern;
            this.segments = segments;
            this.view = view;
        }

        /** Returns the path parameters when {@code path} matches, else {@code null}. */
        Map<String, String> match(String[] path) {
            if (path.length != segments.length) {
                return null;
            }
            Map<String, String> params = null;
            for (int i = 0; i < path.length; i++) {
                String s = segments[i];
                if (s.startsWith("{") && s.endsWith("}")) {
                    if (path[i].isEmpty()) {
                        return null;
                    }
                    if (params == null) {
                        params = new HashMap<>(4);
                    }
                    // '+' is literal in a path; only %XX escapes are decoded.
                    params.put(s.substring(1, s.length() - 1),
                               QueryStringDecoder.decodeComponent(path[i].replace("+", "%2B")));
                } else if (!s.equals(path[i])) {
                    return null;
                }
            }
            return params == null ? Map.of() : params;
        }
    }
}
