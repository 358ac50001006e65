package dev.detour.server.admin;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.detour.config.KeyQuotas;
import dev.detour.keys.KeyPool;
import dev.detour.routing.Route;
import dev.detour.routing.RouteTable;
import dev.detour.routing.Target;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * Renders {@code GET /admin/pools}: every key pool with each key's id, masked tail, state (and who disabled a
 * disabled key), time until usable, local quota use and last signal; and every route target's circuit breaker.
 * Never a key.
 */
final class PoolsView {

    private static final JsonFactory JSON = new JsonFactory();

    private PoolsView() {
    }

    /** Returns the view of {@code routes} at {@code now} (monotonic nanos, for the breakers). */
    static byte[] render(RouteTable routes, long now) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        try (JsonGenerator gen = JSON.createGenerator(out)) {
            gen.useDefaultPrettyPrinter();
            gen.writeStartObject();
            gen.writeArrayFieldStart("pools");
            for (Map.Entry<String, KeyPool> e : routes.pools().entrySet()) {
                KeyPool pool = e.getValue();
                gen.writeStartObject();
                gen.writeStringField("provider", e.getKey());
                gen.writeStringField("strategy", pool.config().strategy().yamlName());
                gen.writeArrayFieldStart("keys");
                for (KeyPool.KeySnapshot k : pool.snapshot()) {
                    writeKey(gen, k);
                }
                gen.writeEndArray();
                gen.writeEndObject();
            }
            gen.writeEndArray();
            gen.writeArrayFieldStart("routes");
            for (String model : routes.modelNames()) {
                Route route = routes.route(model);
                gen.writeStartObject();
                gen.writeStringField("model", model);
                gen.writeStringField("strategy", route.config().strategy().yamlName());
                gen.writeArrayFieldStart("targets");
                for (Target t : route.targets()) {
                    gen.writeStartObject();
                    gen.writeStringField("provider", t.provider().name());
                    gen.writeStringField("model", t.model());
                    gen.writeStringField("circuit_breaker", t.breaker().state(now).name().toLowerCase());
                    gen.writeNumberField("in_flight", t.stats().inFlight());
                    double latency = t.stats().latencyNanos();
                    if (latency >= 0) {
                        gen.writeNumberField("ttfb_ewma_ms", Math.round(latency / 1e4) / 100.0);
                    } else {
                        gen.writeNullField("ttfb_ewma_ms");
                    }
                    gen.writeEndObject();
                }
                gen.writeEndArray();
                gen.writeEndObject();
            }
            gen.writeEndArray();
            gen.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void writeKey(JsonGenerator gen, KeyPool.KeySnapshot k) throws IOException {
        gen.writeStartObject();
        gen.writeStringField("id", k.id());
        gen.writeStringField("key", k.masked());
        gen.writeStringField("state", k.state().name().toLowerCase());
        if (k.disabledBy() == null) {
            gen.writeNullField("disabled_by");
        } else {
            gen.writeStringField("disabled_by", k.disabledBy());
        }
        if (k.unavailableNanos() < 0) {
            gen.writeNullField("available_in_ms");
        } else {
            gen.writeNumberField("available_in_ms", k.unavailableNanos() / 1_000_000);
        }
        gen.writeStringField("quota_group", k.quotaGroup());
        gen.writeStringField("last_error", k.lastError());
        KeyQuotas q = k.quotas();
        if (q.any()) {
            gen.writeObjectFieldStart("quota");
            quota(gen, "requests_per_minute", k.requestsThisMinute(), q.requestsPerMinute());
            quota(gen, "tokens_per_minute", k.tokensThisMinute(), q.tokensPerMinute());
            quota(gen, "requests_per_day", k.requestsToday(), q.requestsPerDay());
            quota(gen, "tokens_per_day", k.tokensToday(), q.tokensPerDay());
            gen.writeEndObject();
        }
        gen.writeEndObject();
    }

    private static void quota(JsonGenerator gen, String name, long used, long limit) throws IOException {
        if (limit <= 0) {
            return;
        }
        gen.writeObjectFieldStart(name);
        gen.writeNumberField("used", used);
        gen.writeNumberField("limit", limit);
        gen.writeEndObject();
    }
}
