package dev.detour.routing;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.detour.catalog.ModelCatalog;
import dev.detour.catalog.ModelInfo;
import dev.detour.config.GatewayConfig;
import dev.detour.config.ProviderConfig;
import dev.detour.config.RouteConfig;
import dev.detour.config.TargetConfig;
import dev.detour.keys.KeyPool;
import dev.detour.time.NanoClock;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The routes of one config version, looked up by the model name a client sends.
 *
 * <p>Immutable and thread-safe. Built once per config; also renders the {@code GET /v1/models} body
 * once, since it only changes with the config.
 *
 * <p>Reloads: {@link #next} builds the table of a new config version from this one, so that what the gateway
 * learnt at run time survives where the config did not change it: key states and local quota counts (see
 * {@link KeyPool#next}), and the circuit breakers and latency figures of route targets that still send to the
 * same upstream model. The live objects are shared with this table, not copied, so requests still running on
 * it report to the new table as well.
 */
public final class RouteTable {

    private final Map<String, Route> routes;
    private final Map<String, KeyPool> pools;
    private final ModelCatalog catalog;
    private final List<String> modelNames;
    private final byte[] modelListJson;
    private final long created;
    private final NanoClock clock;

    private RouteTable(Map<String, Route> routes, Map<String, KeyPool> pools, ModelCatalog catalog, long created,
                       NanoClock clock) {
        this.clock = clock;
        this.routes = Map.copyOf(routes);
        // In config order, for the admin views.
        this.pools = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(pools));
        this.catalog = catalog;
        this.modelNames = List.copyOf(routes.keySet());
        this.modelListJson = renderModelList(routes, created);
        this.created = created;
    }

    /**
     * Resolves the routes of {@code config}.
     *
     * @param createdEpochSeconds the {@code created} time shown in the model list
     */
    public static RouteTable of(GatewayConfig config, long createdEpochSeconds) {
        return of(config, createdEpochSeconds, NanoClock.SYSTEM);
    }

    /**
     * Resolves the routes of {@code config}, with key pools reading time from {@code clock}.
     *
     * @param createdEpochSeconds the {@code created} time shown in the model list
     */
    public static RouteTable of(GatewayConfig config, long createdEpochSeconds, NanoClock clock) {
        return build(config, createdEpochSeconds, clock, null);
    }

    /**
     * Resolves the routes of {@code config}, the next config version after this table's, continuing this
     * table's run-time state where the config left it unchanged:
     * <ul>
     *   <li>key pools of providers with the same name, as {@link KeyPool#next} describes;</li>
     *   <li>for each target of a route with the same model name, the target of the old route that sent to the
     *       same provider (name, type, base URL) and upstream model: its latency figures, and its circuit
     *       breaker unless the route's {@code circuit-breaker} settings changed;</li>
     *   <li>the same for the route's context-window fallback target.</li>
     * </ul>
     * Removed providers, routes and targets are dropped with their state; new ones start afresh.
     *
     * @param createdEpochSeconds the {@code created} time shown in the model list
     */
    public RouteTable next(GatewayConfig config, long createdEpochSeconds) {
        return build(config, createdEpochSeconds, clock, this);
    }

    private static RouteTable build(GatewayConfig config, long createdEpochSeconds, NanoClock clock,
                                    RouteTable previous) {
        // Resolved once per config: each target keeps its row, so requests never look models up.
        ModelCatalog catalog = config.models().isEmpty() ? ModelCatalog.builtin()
                : ModelCatalog.builtin().withOverrides(config.models());
        Map<String, KeyPool> pools = new LinkedHashMap<>();
        for (ProviderConfig provider : config.providers().values()) {
            KeyPool before = previous == null ? null : previous.pools.get(provider.name());
            pools.put(provider.name(), before != null ? before.next(provider) : KeyPool.of(provider, clock));
        }
        Map<String, Route> routes = new LinkedHashMap<>();
        for (RouteConfig rc : config.routes()) {
            Route before = previous == null ? null : previous.routes.get(rc.model());
            List<Target> unclaimed = before == null ? new ArrayList<>() : new ArrayList<>(before.targets());
            List<Target> targets = new ArrayList<>(rc.targets().size());
            for (TargetConfig tc : rc.targets()) {
                ProviderConfig provider = config.providers().get(tc.provider());
                if (provider == null) {
                    throw new IllegalArgumentException("routes." + rc.model() + ": unknown provider '"
                                                       + tc.provider() + "'");
                }
                targets.add(new Target(provider, pools.get(provider.name()), tc.model(), tc.weight(), tc.params(),
                                       rc.breaker(), modelInfo(catalog, provider, tc.model()),
                                       claim(unclaimed, provider, tc.model())));
            }
            Target contextFallback = rc.contextFallback().map(tc -> {
                ProviderConfig provider = config.providers().get(tc.provider());
                Target old = before == null || before.contextFallback() == null ? null : before.contextFallback();
                return new Target(provider, pools.get(provider.name()), tc.model(), tc.weight(), tc.params(),
                                  rc.breaker(), modelInfo(catalog, provider, tc.model()),
                                  old != null && old.sendsTo(provider, tc.model()) ? old : null);
            }).orElse(null);
            routes.put(rc.model(), new Route(rc.model(), targets, rc.timeouts().orElse(config.upstream().timeouts()),
                                             rc, contextFallback));
        }
        return new RouteTable(routes, pools, catalog, createdEpochSeconds, clock);
    }

    /**
     * Removes from {@code candidates} and returns the first target that sends to {@code model} at {@code provider},
     * or {@code null}; each old target is continued at most once, even if a route lists an upstream twice.
     */
    private static Target claim(List<Target> candidates, ProviderConfig provider, String model) {
        for (int i = 0; i < candidates.size(); i++) {
            if (candidates.get(i).sendsTo(provider, model)) {
                return candidates.remove(i);
            }
        }
        return null;
    }

    /** Returns the model catalog of this config: the built-in one with the config's {@code models} applied. */
    public ModelCatalog catalog() {
        return catalog;
    }

    /** Returns the route for {@code model}, or {@code null} when no route has that name. */
    public Route route(String model) {
        return routes.get(model);
    }

    /** Returns the model names clients may ask for, in config order. */
    public List<String> modelNames() {
        return modelNames;
    }

    /** Returns the key pools by provider name, in config order. */
    public Map<String, KeyPool> pools() {
        return pools;
    }

    /** Returns the {@code created} time the model list shows, in epoch seconds. */
    public long created() {
        return created;
    }

    /** Returns the {@code GET /v1/models} body in OpenAI's list format. */
    public byte[] modelListJson() {
        return modelListJson.clone();
    }

    private static byte[] renderModelList(Map<String, Route> routes, long created) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator gen = new JsonFactory().createGenerator(out)) {
            gen.writeStartObject();
            gen.writeStringField("object", "list");
            gen.writeArrayFieldStart("data");
            for (Route route : routes.values()) {
                gen.writeStartObject();
                gen.writeStringField("id", route.model());
                gen.writeStringField("object", "model");
                gen.writeNumberField("created", created);
                gen.writeStringField("owned_by", route.targets().get(0).provider().name());
                gen.writeEndObject();
            }
            gen.writeEndArray();
            gen.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Returns the catalog row of {@code model} at {@code provider}: its family is the provider's type. */
    private static Optional<ModelInfo> modelInfo(ModelCatalog catalog, ProviderConfig provider, String model) {
        return catalog.find(provider.type().yamlName(), model);
    }

    /** Returns a description of the available models for error messages, e.g. {@code a, b, c}. */
    public String describeModels() {
        if (modelNames.isEmpty()) {
            return "(none)";
        }
        StringBuilder sb = new StringBuilder();
        int shown = Math.min(modelNames.size(), 20);
        for (int i = 0; i < shown; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(modelNames.get(i));
        }
        if (modelNames.size() > shown) {
            sb.append(", ... (").append(modelNames.size() - shown).append(" more)");
        }
        return sb.toString();
    }

}
