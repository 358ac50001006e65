package dev.detour.filter;

/**
 * The default positions of the built-in filters, spaced by 100 so that others fit between them.
 * Ties break by filter name. The dispatch filter always runs last.
 */
public final class FilterOrder {

    /** Client-key authentication. */
    public static final int AUTH = 100;
    /** Context resolution and policy matching (route mapping, admission). */
    public static final int POLICY = 150;
    /**
     * Spend and token budgets: after policy, whose context and route they match on, and before rate limits, so
     * that a request refused for its budget takes nothing from a rate-limit bucket.
     */
    public static final int BUDGET = 175;
    /** Token-bucket rate limiting. */
    public static final int RATE_LIMIT = 200;
    /** The response cache. */
    public static final int CACHE = 300;
    /** The terminal filter that sends the request upstream. */
    public static final int DISPATCH = Integer.MAX_VALUE;

    private FilterOrder() {
    }
}
