package dev.detour.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

/**
 * Token and cost counters of one client and team on one route and upstream model.
 *
 * <p>Thread-safe; built once per label set.
 */
final class UsageMeters {

    final Counter promptTokens;
    final Counter completionTokens;
    final Counter cost;

    UsageMeters(MeterRegistry registry, String client, String team, String route, String model) {
        Tags tags = Tags.of("client", client, "team", team, GatewayMetrics.ROUTE, route, GatewayMetrics.MODEL, model);
        String help = "LLM tokens the upstream reported using, by type (prompt or completion), client, team, route "
                      + "and upstream model.";
        this.promptTokens = Counter.builder("detour.tokens").description(help).tags(tags).tag("type", "prompt")
                .register(registry);
        this.completionTokens = Counter.builder("detour.tokens").description(help).tags(tags)
                .tag("type", "completion").register(registry);
        this.cost = Counter.builder("detour.cost")
                .description("List-price cost in USD of the tokens used, from the model catalog (with the config's "
                             + "models overrides); models without a price add nothing.")
                .baseUnit("usd")
                .tags(tags)
                .register(registry);
    }
}
