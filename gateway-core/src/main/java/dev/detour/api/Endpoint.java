package dev.detour.api;

/**
 * The OpenAI-compatible API endpoints Detour proxies.
 */
public enum Endpoint {
    CHAT_COMPLETIONS("/v1/chat/completions", "/chat/completions", true),
    COMPLETIONS("/v1/completions", "/completions", true),
    EMBEDDINGS("/v1/embeddings", "/embeddings", false);

    private final String path;
    private final String upstreamSuffix;
    private final boolean streamable;

    Endpoint(String path, String upstreamSuffix, boolean streamable) {
        this.path = path;
        this.upstreamSuffix = upstreamSuffix;
        this.streamable = streamable;
    }

    /** Returns the inbound path, e.g. {@code /v1/chat/completions}. */
    public String path() {
        return path;
    }

    /** Returns the path appended to an OpenAI-style base URL, e.g. {@code /chat/completions}. */
    public String upstreamSuffix() {
        return upstreamSuffix;
    }

    /** Returns whether {@code stream: true} is meaningful here. */
    public boolean streamable() {
        return streamable;
    }

    /** Returns the endpoint served at {@code path}, or {@code null}. */
    public static Endpoint ofPath(String path) {
        switch (path) {
            case "/v1/chat/completions":
                return CHAT_COMPLETIONS;
            case "/v1/completions":
                return COMPLETIONS;
            case "/v1/embeddings":
                return EMBEDDINGS;
            default:
                return null;
        }
    }
}
