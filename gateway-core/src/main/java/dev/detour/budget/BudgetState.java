package dev.detour.budget;

import dev.detour.config.BudgetConfig;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Where one budget stands for one scope value: its caps, what its window has used, and when the window resets.
 * What the admin API and metrics publish.
 *
 * @param budget         the budget's name
 * @param scope          what it is kept per
 * @param scopeValue     the client or team name, or {@code *} for a global budget
 * @param period         its window: a UTC day or month
 * @param spendCapMicros the spend cap in micro-dollars, or -1 when it caps only tokens
 * @param tokenCap       the token cap, or -1 when it caps only spend
 * @param spentMicros    the spend counted in the current window, in micro-dollars
 * @param tokensUsed     the prompt plus completion tokens counted in the current window
 * @param resetsAt       when the current window ends and the counts start again from zero
 * @param exhausted      whether a cap is reached: requests are refused or sent to the fallback route
 * @param fallbackRoute  the route that serves requests once it is used up, or empty when they are refused
 */
public record BudgetState(String budget, BudgetConfig.Scope scope, String scopeValue, BudgetConfig.Period period,
                          long spendCapMicros, long tokenCap, long spentMicros, long tokensUsed, Instant resetsAt,
                          boolean exhausted, Optional<String> fallbackRoute) {

    public BudgetState {
        Objects.requireNonNull(budget, "budget");
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(scopeValue, "scopeValue");
        Objects.requireNonNull(period, "period");
        Objects.requireNonNull(resetsAt, "resetsAt");
        Objects.requireNonNull(fallbackRoute, "fallbackRoute");
    }
}
