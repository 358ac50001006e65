package dev.detour.server.admin;

import dev.detour.budget.BudgetState;
import java.util.List;

/**
 * Renders {@code GET /admin/budgets}: every budget of the running config for every client or team it has
 * counted, with its caps, what the current window has used, when the window resets, and whether requests are
 * being refused or sent to the fallback route.
 */
final class BudgetsView {

    private BudgetsView() {
    }

    /** Returns the view of {@code states}. */
    static byte[] render(List<BudgetState> states) {
        return AdminJson.render(gen -> {
            gen.writeStartObject();
            gen.writeArrayFieldStart("budgets");
            for (BudgetState s : states) {
                gen.writeStartObject();
                gen.writeStringField("name", s.budget());
                gen.writeStringField("scope", s.scope().name().toLowerCase());
                gen.writeStringField("scope_value", s.scopeValue());
                gen.writeStringField("period", s.period().name().toLowerCase());
                if (s.spendCapMicros() >= 0) {
                    gen.writeNumberField("spend_cap_usd", UsageView.usd(s.spendCapMicros()));
                } else {
                    gen.writeNullField("spend_cap_usd");
                }
                gen.writeNumberField("spent_usd", UsageView.usd(s.spentMicros()));
                if (s.tokenCap() >= 0) {
                    gen.writeNumberField("token_cap", s.tokenCap());
                } else {
                    gen.writeNullField("token_cap");
                }
                gen.writeNumberField("tokens_used", s.tokensUsed());
                gen.writeStringField("resets_at", s.resetsAt().toString());
                gen.writeBooleanField("exhausted", s.exhausted());
                if (s.fallbackRoute().isPresent()) {
                    gen.writeStringField("fallback_route", s.fallbackRoute().get());
                } else {
                    gen.writeNullField("fallback_route");
                }
                gen.writeEndObject();
            }
            gen.writeEndArray();
            gen.writeEndObject();
        });
    }
}
