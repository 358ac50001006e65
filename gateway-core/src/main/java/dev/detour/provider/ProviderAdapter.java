package dev.detour.provider;

import dev.detour.config.ApiKeyConfig;
import dev.detour.filter.RequestContext;
import dev.detour.routing.Target;

/**
 * Translates a request into one provider dialect. Pure: no I/O.
 */
public interface ProviderAdapter {

    /** Prepares the upstream request of {@code ctx} for {@code target} using {@code key}. Thread-safe. */
    UpstreamRequest prepare(RequestContext ctx, Target target, ApiKeyConfig key);
}
