package dev.detour.provider;

import dev.detour.api.Endpoint;
import dev.detour.config.ApiKeyConfig;
import dev.detour.config.ProviderConfig;
import dev.detour.config.TimeoutsConfig;
import dev.detour.filter.Headers;
import dev.detour.routing.Target;
import java.util.Objects;

/**
 * One attempt at an upstream, as an adapter prepared it: where, with which headers, and how the body
 * changes on the way.
 *
 * @param target   the route target (provider and upstream model)
 * @param key      the provider key used
 * @param endpoint the API endpoint
 * @param path     the request path on the upstream origin
 * @param headers  the request headers, except {@code host}, {@code content-length} and connection headers
 * @param bodyEdit how the client's body changes, or {@code null} to forward it byte for byte
 * @param stream   whether the response is expected as an event stream
 * @param timeouts the timeouts of this exchange
 */
public record UpstreamRequest(Target target, ApiKeyConfig key, Endpoint endpoint, String path, Headers headers,
                              BodyEdit bodyEdit, boolean stream, TimeoutsConfig timeouts) {

    public UpstreamRequest {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(headers, "headers");
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
}
