package dev.detour.provider;

import dev.detour.api.Endpoint;
import dev.detour.config.ApiKeyConfig;
import dev.detour.config.ProviderConfig;
import dev.detour.config.TimeoutsConfig;
import dev.detour.filter.Headers;
import dev.detour.routing.Target;
import java.util.Objects;

/**
 * One attempt at an upstream, as an adapter prepared it: where, with which headers and body, and how
 * the answer is translated back.
 *
 * @param target     the route target (provider and upstream model)
 * @param key        the provider key used
 * @param endpoint   the API endpoint the client called
 * @param path       the request path (and query) on the upstream origin
 * @param headers    the request headers, except {@code host}, {@code content-length} and connection headers
 * @param body       the body, relative to the client's
 * @param stream     whether the client asked for a stream
 * @param timeouts   the timeouts of this exchange
 * @param translator how a successful answer becomes OpenAI's format, or {@code null} when it already is
 */
public record UpstreamRequest(Target target, ApiKeyConfig key, Endpoint endpoint, String path, Headers headers,
                              UpstreamBody body, boolean stream, TimeoutsConfig timeouts,
                              ResponseTranslator translator) {

    public UpstreamRequest {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(headers, "headers");
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(timeouts, "timeouts");
    }

    /** Returns the provider of the target. */
    public ProviderConfig provider() {
        return target.provider();
    }

    /** Returns the origin of the target's provider. */
    public UpstreamOrigin origin() {
        return target.origin();
    }

    /** Returns whether the answer is translated (a foreign dialect) rather than passed through. */
    public boolean translated() {
        return translator != null;
    }
}
