package dev.detour.config;

import java.util.List;
import java.util.Objects;

/**
 * Everything the filter chain in front of the router reads: who may call, with which limits and policies,
 * and the order of the built-in filters. YAML keeps these as top-level sections.
 *
 * @param auth     client authentication ({@code auth})
 * @param clients  the client keys ({@code clients})
 * @param limits   rate limits ({@code limits})
 * @param policies context-aware policies, first match wins ({@code policies})
 * @param filters  enabling, disabling and reordering built-in filters ({@code filters})
 * @param budgets  spend and token caps per day or month ({@code budgets}); clients' own are in {@link ClientConfig}
 */
public record ChainConfig(AuthConfig auth, List<ClientConfig> clients, List<LimitConfig> limits,
                          List<PolicyConfig> policies, List<FilterConfig> filters, List<BudgetConfig> budgets) {

    public ChainConfig {
        Objects.requireNonNull(auth, "auth");
        clients = List.copyOf(clients);
        limits = List.copyOf(limits);
        policies = List.copyOf(policies);
        filters = List.copyOf(filters);
        budgets = List.copyOf(budgets);
    }

    /** Returns a chain without budgets. */
    public ChainConfig(AuthConfig auth, List<ClientConfig> clients, List<LimitConfig> limits,
                       List<PolicyConfig> policies, List<FilterConfig> filters) {
        this(auth, clients, limits, policies, filters, List.of());
    }

    /** Returns the defaults: no authentication, no clients, no limits, no policies, default filter order. */
    public static ChainConfig ofDefault() {
        return new ChainConfig(AuthConfig.ofDefault(), List.of(), List.of(), List.of(), List.of(), List.of());
    }

    /** Returns whether any budget is configured, at the top level or in a client. */
    public boolean hasBudgets() {
        if (!budgets.isEmpty()) {
            return true;
        }
        for (ClientConfig c : clients) {
            if (!c.budgets().isEmpty()) {
                return true;
            }
        }
        return false;
    }
}
