package dev.detour.ratelimit;

/**
 * What a request will cost in LLM tokens, in two tiers, so that the tokenizer runs only when its answer can
 * change a decision: a {@linkplain #cheap() cheap} figure known at once, an {@linkplain #bound() upper bound}
 * the exact figure never exceeds, and the {@linkplain #exact() exact} figure, worked out on first use.
 *
 * <p>When every token bucket a request claims from holds at least the bound, the exact figure cannot change
 * whether it passes, and the {@link RateLimitFilter} claims the cheap one; settlement to the usage the
 * upstream reports corrects either. All three figures are at least 1, and {@code cheap <= bound}.
 *
 * <p>One per request, confined to the request's executor: {@link #exact()} is memoised without synchronisation.
 */
abstract class TokenEstimate {

    private final long cheap;
    private final long bound;
    private long exact = -1;

    /**
     * Creates an estimate whose exact figure is left to {@link #computeExact()}.
     *
     * @param cheap the quick figure, at least 1
     * @param bound the most {@link #computeExact()} can return, at least {@code cheap}
     */
    protected TokenEstimate(long cheap, long bound) {
        if (cheap < 1) {
            throw new IllegalArgumentException("cheap: " + cheap + " (expected: >= 1)");
        }
        if (bound < cheap) {
            throw new IllegalArgumentException("bound: " + bound + " (expected: >= cheap " + cheap + ")");
        }
        this.cheap = cheap;
        this.bound = bound;
    }

    /** Returns an estimate known exactly: all three figures are {@code tokens}, or 1 if it is less. */
    static TokenEstimate of(long tokens) {
        return new Known(Math.max(1, tokens));
    }

    /** Returns the quick figure, known without tokenizing. */
    final long cheap() {
        return cheap;
    }

    /** Returns a figure {@link #exact()} never exceeds, known without tokenizing. */
    final long bound() {
        return bound;
    }

    /** Returns the exact figure, computing it on the first call (this may tokenize the prompt). */
    final long exact() {
        if (exact < 0) {
            // The clamp only matters if computeExact broke its contract (a tokenizer failure estimated from the
            // body length, say): a bound that held when the buckets were read must hold for what is claimed.
            exact = Math.max(1, Math.min(bound, computeExact()));
        }
        return exact;
    }

    /** Returns whether {@link #exact()} costs nothing more: it was computed, or the estimate has one figure. */
    final boolean exactKnown() {
        return exact >= 0 || cheap == bound;
    }

    /** Computes the exact figure, at most {@link #bound()}. Called at most once. */
    protected abstract long computeExact();

    /** An estimate with a single figure. */
    private static final class Known extends TokenEstimate {

        Known(long tokens) {
            super(tokens, tokens);
        }

        @Override
        protected long computeExact() {
            return cheap();
        }
    }
}
