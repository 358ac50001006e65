package dev.detour.server.admin;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.detour.usage.UsageCounts;
import dev.detour.usage.UsageKind;
import dev.detour.usage.UsageSnapshot;
import java.io.IOException;
import java.math.BigDecimal;

/**
 * Renders {@code GET /admin/usage}: every account of the usage ledger (clients, teams, routes, provider keys
 * by id, budgets) with its counts for the current UTC day, the current UTC month and since start.
 *
 * <p>Keys appear by provider and id only. Costs are USD at catalog list prices, written as decimals with six
 * places (the ledger counts micro-dollars, so nothing is rounded).
 */
final class UsageView {

    private UsageView() {
    }

    /** Returns the view of {@code snapshot}. */
    static byte[] render(UsageSnapshot snapshot) {
        return AdminJson.render(gen -> {
            gen.writeStartObject();
            gen.writeStringField("taken_at", snapshot.takenAt().toString());
            gen.writeStringField("day", snapshot.day().toString());
            gen.writeStringField("month", snapshot.month().toString());
            for (UsageKind kind : UsageKind.values()) {
                gen.writeArrayFieldStart(plural(kind));
                for (UsageSnapshot.AccountUsage a : snapshot.of(kind)) {
                    gen.writeStartObject();
                    if (!a.group().isEmpty()) {
                        gen.writeStringField(kind == UsageKind.KEY ? "provider" : "budget", a.group());
                    }
                    gen.writeStringField(kind == UsageKind.KEY ? "id" : "name", a.name());
                    counts(gen, "day", a.day());
                    counts(gen, "month", a.month());
                    counts(gen, "since_start", a.sinceStart());
                    gen.writeEndObject();
                }
                gen.writeEndArray();
            }
            gen.writeEndObject();
        });
    }

    private static String plural(UsageKind kind) {
        return kind.jsonName() + (kind.jsonName().endsWith("s") ? "" : "s");
    }

    private static void counts(JsonGenerator gen, String field, UsageCounts c) throws IOException {
        gen.writeObjectFieldStart(field);
        gen.writeNumberField("requests", c.requests());
        gen.writeNumberField("prompt_tokens", c.promptTokens());
        gen.writeNumberField("completion_tokens", c.completionTokens());
        gen.writeNumberField("cached_tokens", c.cachedTokens());
        gen.writeNumberField("cost_usd", usd(c.costMicros()));
        gen.writeEndObject();
    }

    /** Returns micro-dollars as an exact decimal of dollars. */
    static BigDecimal usd(long micros) {
        return BigDecimal.valueOf(micros, 6);
    }
}
