package dev.detour.filter;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * An immutable, ordered filter chain, built once per config version.
 *
 * <p>Each position is a pre-built {@link FilterChain} link, so running a request allocates nothing
 * for the chain itself when every filter completes synchronously.
 *
 * <p>Threading: {@link #execute(RequestContext)} is called on the request's executor. When a
 * filter's stage completes on another thread, the result is handed back to the request's executor
 * before the previous filter sees it; a stage completing on that executor continues inline.
 */
public final class FilterPipeline {

    private final List<GatewayFilter> filters;
    private final FilterChain head;

    private FilterPipeline(List<GatewayFilter> filters) {
        this.filters = List.copyOf(filters);
        FilterChain next = ctx -> CompletableFuture.failedFuture(
                new IllegalStateException("the last filter called next: the chain has no terminal filter"));
        for (int i = filters.size() - 1; i >= 0; i--) {
            next = new Link(filters.get(i), next);
        }
        this.head = next;
    }

    /**
     * Returns a pipeline of {@code filters} sorted by {@link GatewayFilter#order()}, then name.
     *
     * @throws IllegalArgumentException if two filters share a name
     */
    public static FilterPipeline of(List<? extends GatewayFilter> filters) {
        List<GatewayFilter> sorted = new ArrayList<>(filters);
        sorted.sort(Comparator.comparingInt(GatewayFilter::order).thenComparing(GatewayFilter::name));
        for (int i = 1; i < sorted.size(); i++) {
            if (sorted.get(i).name().equals(sorted.get(i - 1).name())) {
                throw new IllegalArgumentException("filters: duplicate name '" + sorted.get(i).name() + "'");
            }
        }
        return new FilterPipeline(sorted);
    }

    /** Returns the filters in the order they run. */
    public List<GatewayFilter> filters() {
        return filters;
    }

    /**
     * Runs {@code ctx} through the chain. Never throws: a filter that throws or fails its stage yields
     * a failed stage, which the caller maps to an error response once.
     */
    public CompletionStage<GatewayResponse> execute(RequestContext ctx) {
        return head.proceed(Objects.requireNonNull(ctx, "ctx"));
    }

    private static final class Link implements FilterChain {
        private final GatewayFilter filter;
        private final FilterChain next;

        Link(GatewayFilter filter, FilterChain next) {
            this.filter = filter;
            this.next = next;
        }

        @Override
        public CompletionStage<GatewayResponse> proceed(RequestContext ctx) {
            CompletionStage<GatewayResponse> stage;
            try {
                stage = filter.filter(ctx, next);
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
            if (stage == null) {
                return CompletableFuture.failedFuture(
                        new IllegalStateException("filter '" + filter.name() + "' returned null"));
            }
            CompletableFuture<GatewayResponse> future = stage.toCompletableFuture();
            if (future.isDone()) {
                return future;
            }
            return resumeOn(future, ctx.executor());
        }

        private static CompletionStage<GatewayResponse> resumeOn(CompletableFuture<GatewayResponse> future,
                                                                 RequestExecutor executor) {
            CompletableFuture<GatewayResponse> resumed = new CompletableFuture<>();
            future.whenComplete((response, error) -> {
                if (executor.inExecutor()) {
                    complete(resumed, response, error);
                } else {
                    executor.execute(() -> complete(resumed, response, error));
                }
            });
            return resumed;
        }

        private static void complete(CompletableFuture<GatewayResponse> target, GatewayResponse response,
                                     Throwable error) {
            if (error != null) {
                target.completeExceptionally(error);
            } else {
                target.complete(response);
            }
        }
    }
}
