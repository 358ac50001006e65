package dev.detour.server.admin;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.detour.routing.CircuitBreaker;
import dev.detour.routing.Route;
import dev.detour.routing.RouteTable;
import dev.detour.routing.Target;
import java.io.IOException;

/**
 * Renders {@code GET /admin/breakers}: the circuit breaker of every route target (context-window fallbacks
 * included), its state, and for an open breaker how long until it lets a probe through.
 */
final class BreakersView {

    private BreakersView() {
    }

    /** Returns the view of {@code routes} at {@code now} (monotonic nanos). */
    static byte[] render(RouteTable routes, long now) {
        return AdminJson.render(gen -> {
            gen.writeStartObject();
            gen.writeArrayFieldStart("breakers");
            for (String model : routes.modelNames()) {
                Route route = routes.route(model);
                for (Target t : route.targets()) {
                    breaker(gen, model, t, false, now);
                }
                if (route.contextFallback() != null) {
                    breaker(gen, model, route.contextFallback(), true, now);
                }
            }
            gen.writeEndArray();
            gen.writeEndObject();
        });
    }

    private static void breaker(JsonGenerator gen, String route, Target t, boolean contextFallback, long now)
            throws IOException {
        CircuitBreaker b = t.breaker();
        gen.writeStartObject();
        gen.writeStringField("route", route);
        gen.writeStringField("provider", t.provider().name());
        gen.writeStringField("model", t.model());
        gen.writeBooleanField("context_fallback", contextFallback);
        gen.writeBooleanField("enabled", b.enabled());
        gen.writeStringField("state", b.state(now).name().toLowerCase());
        long from = b.allowsFrom(now);
        gen.writeNumberField("probe_in_ms", Math.max(0, (from - now) / 1_000_000));
        gen.writeEndObject();
    }
}
