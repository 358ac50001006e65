package dev.detour.server.admin;

import dev.detour.filter.RequestHeaders;
import dev.detour.server.ActiveConfig;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One call to the admin API: method, path, query, headers, body, who sent it, and the config version it is
 * served against.
 *
 * <p>Immutable, except that {@link AdminApi} adds the path parameters of the matched route with
 * {@link #withParams}. One per request.
 */
public final class AdminRequest {

    private final String method;
    private final String path;
    private final Map<String, List<String>> query;
    private final RequestHeaders headers;
    private final SocketAddress remote;
    private final byte[] body;
    private final ActiveConfig active;
    private final Map<String, String> params;

    /**
     * Creates a request.
     *
     * @param method  the HTTP method, e.g. {@code GET}
     * @param path    the path without the query, not yet percent-decoded
     * @param query   the decoded query parameters
     * @param headers the request headers
     * @param remote  the peer's address
     * @param body    the request body, empty for none
     * @param active  the config version to serve it against
     */
    public AdminRequest(String method, String path, Map<String, List<String>> query, RequestHeaders headers,
                        SocketAddress remote, byte[] body, ActiveConfig active) {
        this(method, path, query, headers, remote, body, active, Map.of());
    }

    private AdminRequest(String method, String path, Map<String, List<String>> query, RequestHeaders headers,
                         SocketAddress remote, byte[] body, ActiveConfig active, Map<String, String> params) {
        this.method = Objects.requireNonNull(method, "method");
        this.path = Objects.requireNonNull(path, "path");
        this.query = Map.copyOf(Objects.requireNonNull(query, "query"));
        this.headers = Objects.requireNonNull(headers, "headers");
        this.remote = remote;
        this.body = Objects.requireNonNull(body, "body");
        this.active = Objects.requireNonNull(active, "active");
        this.params = Map.copyOf(params);
    }

    /** Returns the HTTP method. */
    public String method() {
        return method;
    }

    /** Returns the path, without the query and not percent-decoded. */
    public String path() {
        return path;
    }

    /** Returns the first value of query parameter {@code name}. */
    public Optional<String> query(String name) {
        List<String> values = query.get(name);
        return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
    }

    /** Returns the request headers. */
    public RequestHeaders headers() {
        return headers;
    }

    /** Returns whether the peer is on this machine (a loopback address). */
    public boolean fromLoopback() {
        return remote instanceof InetSocketAddress inet && inet.getAddress() != null
               && inet.getAddress().isLoopbackAddress();
    }

    /** Returns the body; empty for none. */
    public byte[] body() {
        return body.clone();
    }

    /** Returns the config version this request is served against: the one running when it arrived. */
    public ActiveConfig active() {
        return active;
    }

    /** Returns whether the matched route has path parameter {@code name}. */
    public boolean hasParam(String name) {
        return params.containsKey(name);
    }

    /** Returns path parameter {@code name} of the matched route, percent-decoded. */
    public String param(String name) {
        String value = params.get(name);
        if (value == null) {
            throw new IllegalArgumentException("param: '" + name + "' (expected one of " + params.keySet() + ")");
        }
        return value;
    }

    /** Returns this request with the path parameters of the route it matched. */
    AdminRequest withParams(Map<String, String> matched) {
        return new AdminRequest(method, path, query, headers, remote, body, active, matched);
    }
}
