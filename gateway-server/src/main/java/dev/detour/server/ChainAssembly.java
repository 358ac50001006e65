package dev.detour.server;

import dev.detour.config.ChainConfig;
import dev.detour.config.FilterConfig;
import dev.detour.filter.FilterChain;
import dev.detour.filter.FilterPipeline;
import dev.detour.filter.GatewayFilter;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the filter chain of one config version: the built-in filters in their default positions,
 * enabled, disabled or moved as {@code filters:} says, then the dispatcher last.
 *
 * <p>Disabled filters are left out of the chain rather than checked on every request.
 */
final class ChainAssembly {

    private static final Logger LOG = LoggerFactory.getLogger(ChainAssembly.class);

    private ChainAssembly() {
    }

    /**
     * Returns the pipeline of {@code builtIns} (name to factory, in default order; a factory returning
     * {@code null} means the filter has nothing to do with this config) followed by {@code dispatch}.
     */
    static FilterPipeline build(ChainConfig chain, Map<String, Supplier<GatewayFilter>> builtIns,
                                GatewayFilter dispatch) {
        List<GatewayFilter> filters = new ArrayList<>();
        for (Map.Entry<String, Supplier<GatewayFilter>> e : builtIns.entrySet()) {
            FilterConfig fc = find(chain, e.getKey());
            if (fc != null && !fc.enabled()) {
                LOG.info("filter '{}' disabled by configuration", e.getKey());
                continue;
            }
            GatewayFilter filter = e.getValue().get();
            if (filter == null) {
                continue;
            }
            if (fc != null && fc.order().isPresent()) {
                filter = new Reordered(filter, fc.order().getAsInt());
            }
            filters.add(filter);
        }
        filters.add(dispatch);
        FilterPipeline pipeline = FilterPipeline.of(filters);
        if (LOG.isInfoEnabled()) {
            StringBuilder sb = new StringBuilder();
            for (GatewayFilter f : pipeline.filters()) {
                sb.append(sb.length() == 0 ? "" : " -> ").append(f.name()).append('(')
                  .append(f.order() == Integer.MAX_VALUE ? "last" : Integer.toString(f.order())).append(')');
            }
            LOG.info("filter chain: {}", sb);
        }
        return pipeline;
    }

    private static FilterConfig find(ChainConfig chain, String name) {
        for (FilterConfig fc : chain.filters()) {
            if (fc.name().equals(name)) {
                return fc;
            }
        }
        return null;
    }

    /** A built-in filter at the position the configuration gives it. */
    private static final class Reordered implements GatewayFilter {
        private final GatewayFilter delegate;
        private final int order;

        Reordered(GatewayFilter delegate, int order) {
            this.delegate = delegate;
            this.order = order;
        }

        @Override
        public int order() {
            return order;
        }

        @Override
        public String name() {
            return delegate.name();
        }

        @Override
        public CompletionStage<GatewayResponse> filter(RequestContext ctx, FilterChain next) {
            return delegate.filter(ctx, next);
        }
    }
}
