package dev.detour.server.admin;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.detour.config.RetryTrigger;
import dev.detour.routing.Route;
import dev.detour.routing.RouteTable;
import dev.detour.routing.Target;
import dev.detour.server.ActiveConfig;
import java.io.IOException;

/**
 * Renders {@code GET /admin/routes}: every route of the running version with its routing settings and its
 * targets (provider, provider type, upstream model, weight, circuit breaker state), and its context-window
 * fallback. Never a key or a base URL's credentials: base URLs are not shown.
 */
final class RoutesView {

    private RoutesView() {
    }

    /** Returns the view of {@code active} at {@code now} (monotonic nanos, for the breakers). */
    static byte[] render(ActiveConfig active, long now) {
        RouteTable routes = active.routes();
        return AdminJson.render(gen -> {
            gen.writeStartObject();
            gen.writeNumberField("version", active.version().number());
            gen.writeArrayFieldStart("routes");
            for (String model : routes.modelNames()) {
                Route route = routes.route(model);
                gen.writeStartObject();
                gen.writeStringField("model", model);
                gen.writeStringField("strategy", route.config().strategy().yamlName());
                gen.writeNumberField("max_attempts", route.config().maxAttempts());
                AdminJson.millis(gen, "deadline_ms", route.deadline());
                AdminJson.millis(gen, "max_wait_ms", route.config().maxWait());
                gen.writeStringField("affinity", route.config().affinity().yamlName());
                gen.writeArrayFieldStart("retry_on");
                for (RetryTrigger t : RetryTrigger.values()) {
                    if (route.config().retryOn().contains(t)) {
                        gen.writeString(t.yamlName());
                    }
                }
                gen.writeEndArray();
                gen.writeArrayFieldStart("targets");
                for (Target t : route.targets()) {
                    target(gen, t, now);
                }
                gen.writeEndArray();
                gen.writeFieldName("context_fallback");
                if (route.contextFallback() == null) {
                    gen.writeNull();
                } else {
                    target(gen, route.contextFallback(), now);
                }
                gen.writeEndObject();
            }
            gen.writeEndArray();
            gen.writeEndObject();
        });
    }

    private static void target(JsonGenerator gen, Target t, long now) throws IOException {
        gen.writeStartObject();
        gen.writeStringField("provider", t.provider().name());
        gen.writeStringField("type", t.provider().type().yamlName());
        gen.writeStringField("model", t.model());
        gen.writeNumberField("weight", t.weight());
        gen.writeStringField("circuit_breaker", t.breaker().state(now).name().toLowerCase());
        gen.writeEndObject();
    }
}
