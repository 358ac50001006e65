package dev.detour.routing;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.detour.catalog.ModelInfo;
import dev.detour.catalog.Price;
import dev.detour.config.BreakerConfig;
import dev.detour.config.ProviderConfig;
import dev.detour.config.ProviderType;
import dev.detour.keys.KeyPool;
import dev.detour.provider.ProviderAdapter;
import dev.detour.provider.ProviderAdapters;
import dev.detour.provider.UpstreamOrigin;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One resolved place a route can send a request to: a provider, its key pool and the upstream model name.
 *
 * <p>Immutable; everything derivable is computed once at config load, not per request.
 */
public final class Target {

    private static final UpstreamOrigin IN_PROCESS = new UpstreamOrigin(false, "mock", 0, "");

    private final ProviderConfig provider;
    private final KeyPool keys;
    private final String model;
    private final byte[] modelJson;
    private final UpstreamOrigin origin;
    private final ProviderAdapter adapter;
    private final int weight;
    private final Map<String, Object> params;
    private final CircuitBreaker breaker;
    private final Optional<ModelInfo> modelInfo;
    private final Price price;
    private final TargetStats stats;

    Target(ProviderConfig provider, KeyPool keys, String model, int weight, Map<String, Object> params,
           BreakerConfig breaker) {
        this(provider, keys, model, weight, params, breaker, Optional.empty());
    }

    Target(ProviderConfig provider, KeyPool keys, String model, int weight, Map<String, Object> params,
           BreakerConfig breaker, Optional<ModelInfo> modelInfo) {
        this(provider, keys, model, weight, params, breaker, modelInfo, null);
    }

    /**
     * Creates a target that continues {@code previous} (the same upstream model of the same route in the previous
     * config version) or, when it is {@code null}, starts afresh. The latency figures always carry over; the
     * circuit breaker carries over when its settings are unchanged.
     */
    Target(ProviderConfig provider, KeyPool keys, String model, int weight, Map<String, Object> params,
           BreakerConfig breaker, Optional<ModelInfo> modelInfo, Target previous) {
        this.provider = Objects.requireNonNull(provider, "provider");
        this.keys = Objects.requireNonNull(keys, "keys");
        this.model = Objects.requireNonNull(model, "model");
        this.modelJson = ('"' + new String(JsonStringEncoder.getInstance().quoteAsString(model)) + '"')
                .getBytes(StandardCharsets.UTF_8);
        this.origin = provider.type() == ProviderType.MOCK ? IN_PROCESS : UpstreamOrigin.of(provider.baseUrl());
        this.adapter = ProviderAdapters.forType(provider.type());
        this.weight = weight;
        this.params = Map.copyOf(params);
        this.breaker = previous != null && previous.breaker.config().equals(breaker)
                       ? previous.breaker : new CircuitBreaker("target " + provider.name() + "/" + model, breaker);
        this.stats = previous != null ? previous.stats : new TargetStats();
        this.modelInfo = Objects.requireNonNull(modelInfo, "modelInfo");
        // The mock provider's answers cost nothing unless a 'models:' row prices them (tests of budgets do).
        this.price = modelInfo.isEmpty() && provider.type() == ProviderType.MOCK ? Price.FREE : Price.of(modelInfo);
    }

    /** Returns the share of traffic under the {@code weighted} strategy. */
    public int weight() {
        return weight;
    }

    /** Returns request fields set on every request to this target, overriding the client's. */
    public Map<String, Object> params() {
        return params;
    }

    /**
     * Returns what the model catalog (with the config's {@code models} overrides) knows about the upstream model:
     * its context window, output cap, prices and capabilities; empty when the catalog does not know it.
     */
    public Optional<ModelInfo> modelInfo() {
        return modelInfo;
    }

    /** Returns the list price of the upstream model, {@link Price#UNKNOWN} when the catalog does not know it. */
    public Price price() {
        return price;
    }

    /** Returns the circuit breaker of this target. */
    public CircuitBreaker breaker() {
        return breaker;
    }

    /** Returns live latency and load figures of this target. */
    public TargetStats stats() {
        return stats;
    }

    /** Returns the adapter of the provider's dialect. */
    public ProviderAdapter adapter() {
        return adapter;
    }

    /**
     * Returns whether this target sends to {@code model} at {@code provider}: the same provider name, type and base
     * URL and the same upstream model. Its health and latency figures then hold for such a target too.
     */
    boolean sendsTo(ProviderConfig provider, String model) {
        return this.provider.name().equals(provider.name()) && this.provider.type() == provider.type()
               && this.provider.baseUrl().equals(provider.baseUrl()) && this.model.equals(model);
    }

    /** Returns the provider. */
    public ProviderConfig provider() {
        return provider;
    }

    /** Returns the provider's key pool, shared by every target of that provider. */
    public KeyPool keys() {
        return keys;
    }

    /** Returns the model name sent upstream. */
    public String model() {
        return model;
    }

    /** Returns {@link #model()} as a JSON string literal, quotes included, ready to splice into a body. */
    public byte[] modelJson() {
        return modelJson.clone();
    }

    /** Returns where the provider lives; a placeholder for in-process providers. */
    public UpstreamOrigin origin() {
        return origin;
    }

    @Override
    public String toString() {
        return provider.name() + '/' + model;
    }
}
