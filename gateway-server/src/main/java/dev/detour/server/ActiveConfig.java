package dev.detour.server;

import dev.detour.auth.AdminAuth;
import dev.detour.budget.BudgetFilter;
import dev.detour.config.GatewayConfig;
import dev.detour.filter.FilterPipeline;
import dev.detour.routing.RouteTable;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything derived from one config version that requests read: routes, the filter chain, the access log.
 *
 * <p>Immutable. A request reads the current instance once when it arrives and keeps it to the end,
 * so a future reload can swap the whole snapshot atomically without disturbing requests in flight.
 *
 * @param config   the config it was built from
 * @param routes   the route table
 * @param pipeline the filter chain, ending in dispatch
 * @param accessLog the access log
 * @param admin    who may call {@code /admin/*} (the config's {@code auth.admin-keys})
 * @param budgets  the budget filter of this version, for {@link BudgetFilter#states()}; empty without budgets
 */
public record ActiveConfig(GatewayConfig config, RouteTable routes, FilterPipeline pipeline, AccessLog accessLog,
                           AdminAuth admin, Optional<BudgetFilter> budgets) {

    public ActiveConfig {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(routes, "routes");
        Objects.requireNonNull(pipeline, "pipeline");
        Objects.requireNonNull(accessLog, "accessLog");
        Objects.requireNonNull(admin, "admin");
        Objects.requireNonNull(budgets, "budgets");
    }
}
