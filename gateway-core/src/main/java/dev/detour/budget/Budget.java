package dev.detour.budget;

import dev.detour.config.BudgetConfig;
import dev.detour.filter.ContextMatcher;
import dev.detour.filter.RequestContext;
import dev.detour.routing.Route;
import dev.detour.usage.UsageAccount;
import dev.detour.usage.UsageKind;
import dev.detour.usage.UsageLedger;
import dev.detour.usage.UsageWindows;

/**
 * A {@link BudgetConfig} prepared for the hot path: caps as longs, the fallback route resolved, the match
 * conditions as arrays. Immutable.
 */
final class Budget {

    /** The scope value of a global budget: one account for every request it matches. */
    static final String GLOBAL = "*";

    final BudgetConfig config;
    final String name;
    /** The client a client's own budget belongs to; empty for a top-level budget. */
    final String owner;
    final BudgetConfig.Scope scope;
    final BudgetConfig.Period period;
    /** The spend cap in micro-dollars, or -1. */
    final long spendMicros;
    /** The token cap, or -1. */
    final long tokens;
    /** The route that serves requests once the budget is used up, or {@code null} to refuse them. */
    final Route fallback;
    /** {@code null} when the budget applies to every request. */
    private final ContextMatcher match;
    /** The account of a global budget, resolved once; {@code null} for other scopes. */
    private final UsageAccount globalAccount;

    Budget(BudgetConfig config, String owner, Route fallback, UsageLedger ledger) {
        this.config = config;
        this.name = config.name();
        this.owner = owner;
        this.scope = config.scope();
        this.period = config.period();
        this.spendMicros = config.spendMicros();
        this.tokens = config.tokens().orElse(-1);
        this.fallback = fallback;
        this.match = ContextMatcher.of(config.match());
        this.globalAccount = scope == BudgetConfig.Scope.GLOBAL ? ledger.account(UsageKind.BUDGET, name, GLOBAL) : null;
    }

    /** Returns whether the request's context meets every condition of the budget's {@code match}. */
    boolean matches(RequestContext ctx) {
        return match.matches(ctx);
    }

    /** Returns the account this request's usage counts in: its client's, its team's, or the global one. */
    UsageAccount account(RequestContext ctx, UsageLedger ledger) {
        switch (scope) {
            case CLIENT:
                return ledger.account(UsageKind.BUDGET, name, ctx.caller().client());
            case TEAM:
                return ledger.account(UsageKind.BUDGET, name, ctx.caller().team());
            case GLOBAL:
            default:
                return globalAccount;
        }
    }

    /**
     * Returns the scope value the budget always has, listed before anything was counted: its client for a
     * client's own budget, {@code *} for a global one; {@code null} for others, whose values come with traffic.
     */
    String knownScopeValue() {
        if (!owner.isEmpty()) {
            return owner;
        }
        return scope == BudgetConfig.Scope.GLOBAL ? GLOBAL : null;
    }

    /** Returns whether {@code account} has reached a cap in the window of {@code now}. */
    boolean exhausted(UsageAccount account, UsageWindows now) {
        return spendMicros >= 0 && account.costMicros(period, now) >= spendMicros
               || tokens >= 0 && account.tokens(period, now) >= tokens;
    }

    /** Returns the scope for people: {@code team 'research'}, {@code client 'alice'}, {@code all its requests}. */
    String describeScope(String scopeValue) {
        switch (scope) {
            case CLIENT:
                return "client " + quote(scopeValue);
            case TEAM:
                return "team " + quote(scopeValue);
            case GLOBAL:
            default:
                return "all matching requests";
        }
    }

    private static String quote(String value) {
        String v = value.length() > 64 ? value.substring(0, 61) + "..." : value;
        return "'" + v + "'";
    }
}
