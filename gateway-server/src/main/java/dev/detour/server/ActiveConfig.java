package dev.detour.server;

import dev.detour.auth.AdminAuth;
import dev.detour.budget.BudgetFilter;
import dev.detour.config.GatewayConfig;
import dev.detour.filter.FilterPipeline;
import dev.detour.ratelimit.RateLimitStats;
import dev.detour.routing.RouteTable;
import dev.detour.server.accesslog.AccessLog;
import dev.detour.server.reload.ConfigVersion;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything derived from one config version that requests read: routes, the filter chain, the access log.
 *
 * <p>Immutable. A request reads the current instance once when it arrives and keeps it to the end,
 * so a reload swaps the whole snapshot atomically without disturbing requests in flight.
 *
 * @param config     the config it was built from
 * @param routes     the route table
 * @param pipeline   the filter chain, ending in dispatch
 * @param accessLog  the access log
 * @param admin      who may call {@code /admin/*} (the config's {@code auth.admin-keys})
 * @param version    which config version this is
 * @param rateLimits the refusal counts of this version's rate-limit filter; empty when no limit is configured
 * @param budgets    the budget filter of this version, for {@link BudgetFilter#states()}; empty without budgets
 */
public record ActiveConfig(GatewayConfig config, RouteTable routes, FilterPipeline pipeline, AccessLog accessLog,
                           AdminAuth admin, ConfigVersion version, Optional<RateLimitStats> rateLimits,
                           Optional<BudgetFilter> budgets) {

    public ActiveConfig {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(routes, "routes");
        Objects.requireNonNull(pipeline, "pipeline");
        Objects.requireNonNull(accessLog, "accessLog");
        Objects.requireNonNull(admin, "admin");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(rateLimits, "rateLimits");
        Objects.requireNonNull(budgets, "budgets");
    }
}
