package dev.detour.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.testing.TestContexts;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class FilterPipelineTest {

    private static final GatewayResponse.Full OK = new GatewayResponse.Full(200, Headers.empty(), new byte[0]);

    @Test
    void runsFiltersByOrderThenName() {
        List<String> seen = new ArrayList<>();
        FilterPipeline pipeline = FilterPipeline.of(List.of(
                terminal(seen), recording("b", 100, seen), recording("a", 100, seen), recording("z", 50, seen)));

        pipeline.execute(TestContexts.newContext(RequestExecutor.DIRECT));

        assertEquals(List.of("z", "a", "b", "terminal"), seen);
        assertEquals("terminal", pipeline.filters().get(3).name());
    }

    @Test
    void shortCircuitsWithoutCallingNext() throws Exception {
        List<String> seen = new ArrayList<>();
        GatewayResponse.Full denied = new GatewayResponse.Full(401, Headers.empty(), new byte[0]);
        GatewayFilter deny = filter("deny", 10, (ctx, next) -> CompletableFuture.completedFuture(denied));
        FilterPipeline pipeline = FilterPipeline.of(List.of(deny, terminal(seen)));

        GatewayResponse r = pipeline.execute(TestContexts.newContext(RequestExecutor.DIRECT))
                                    .toCompletableFuture().get();

        assertSame(denied, r);
        assertTrue(seen.isEmpty());
    }

    @Test
    void letsFiltersActOnTheResponse() throws Exception {
        GatewayFilter tag = filter("tag", 10, (ctx, next) -> next.proceed(ctx).thenApply(
                r -> new GatewayResponse.Full(r.status(), r.headers().with("x-tag", "1"), new byte[0])));
        FilterPipeline pipeline = FilterPipeline.of(List.of(tag, terminal(new ArrayList<>())));

        GatewayResponse r = pipeline.execute(TestContexts.newContext(RequestExecutor.DIRECT))
                                    .toCompletableFuture().get();

        assertEquals("1", r.headers().get("X-Tag"));
    }

    @Test
    void turnsThrowingFilterIntoFailedStage() {
        GatewayFilter boom = filter("boom", 10, (ctx, next) -> {
            throw new IllegalStateException("bug");
        });
        FilterPipeline pipeline = FilterPipeline.of(List.of(boom, terminal(new ArrayList<>())));

        CompletableFuture<GatewayResponse> f = pipeline.execute(TestContexts.newContext(RequestExecutor.DIRECT))
                                                       .toCompletableFuture();

        ExecutionException e = assertThrows(ExecutionException.class, f::get);
        assertEquals("bug", e.getCause().getMessage());
    }

    @Test
    void resumesOnRequestExecutorWhenStageCompletesElsewhere() {
        QueueExecutor loop = new QueueExecutor();
        CompletableFuture<GatewayResponse> upstream = new CompletableFuture<>();
        List<Boolean> ranOnLoop = new ArrayList<>();
        GatewayFilter outer = filter("outer", 10, (ctx, next) -> next.proceed(ctx).thenApply(r -> {
            ranOnLoop.add(loop.inside);
            return r;
        }));
        GatewayFilter async = filter("async", FilterOrder.DISPATCH, (ctx, next) -> upstream);
        FilterPipeline pipeline = FilterPipeline.of(List.of(outer, async));
        RequestContext ctx = TestContexts.newContext(loop);

        CompletableFuture<GatewayResponse> result = loop.call(() -> pipeline.execute(ctx).toCompletableFuture());
        upstream.complete(OK); // "another thread": not inside the loop

        assertTrue(ranOnLoop.isEmpty(), "the outer filter waits for the loop");
        assertFalse(result.isDone());
        loop.runAll();
        assertEquals(List.of(true), ranOnLoop);
        assertSame(OK, result.join());
    }

    @Test
    void rejectsDuplicateNames() {
        List<GatewayFilter> twice = List.of(terminal(new ArrayList<>()), terminal(new ArrayList<>()));

        assertThrows(IllegalArgumentException.class, () -> FilterPipeline.of(twice));
    }

    @Test
    void failsWhenNoFilterAnswers() {
        GatewayFilter pass = filter("pass", 10, (ctx, next) -> next.proceed(ctx));

        CompletableFuture<GatewayResponse> f = FilterPipeline.of(List.of(pass))
                .execute(TestContexts.newContext(RequestExecutor.DIRECT)).toCompletableFuture();

        assertTrue(f.isCompletedExceptionally());
    }

    private static GatewayFilter recording(String name, int order, List<String> seen) {
        return filter(name, order, (ctx, next) -> {
            seen.add(name);
            return next.proceed(ctx);
        });
    }

    private static GatewayFilter terminal(List<String> seen) {
        return filter("terminal", FilterOrder.DISPATCH, (ctx, next) -> {
            seen.add("terminal");
            return CompletableFuture.completedFuture(OK);
        });
    }

    interface Body {
        CompletionStage<GatewayResponse> apply(RequestContext ctx, FilterChain next);
    }

    private static GatewayFilter filter(String name, int order, Body body) {
        return new GatewayFilter() {
            @Override
            public int order() {
                return order;
            }

            @Override
            public String name() {
                return name;
            }

            @Override
            public CompletionStage<GatewayResponse> filter(RequestContext ctx, FilterChain next) {
                return body.apply(ctx, next);
            }
        };
    }

    /** A single-threaded executor driven by the test: tasks run only when the test says so. */
    private static final class QueueExecutor implements RequestExecutor {
        private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
        private boolean inside;

        @Override
        public boolean inExecutor() {
            return inside;
        }

        @Override
        public void execute(Runnable command) {
            tasks.add(command);
        }

        @Override
        public Cancellable schedule(Runnable command, long delayNanos) {
            throw new UnsupportedOperationException("not needed here");
        }

        <T> T call(java.util.function.Supplier<T> work) {
            inside = true;
            try {
                return work.get();
            } finally {
                inside = false;
            }
        }

        void runAll() {
            inside = true;
            try {
                Runnable r;
                while ((r = tasks.poll()) != null) {
                    r.run();
                }
            } finally {
                inside = false;
            }
        }
    }
}
