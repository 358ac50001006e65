package dev.detour.usage;

/**
 * Usage added up over a window: requests that reached a provider, their tokens, and their cost at list prices.
 *
 * @param requests         requests that reached a provider (at least one attempt was sent)
 * @param promptTokens     prompt tokens the providers reported, cached ones included
 * @param completionTokens completion tokens (reasoning included) the providers reported
 * @param cachedTokens     the part of {@code promptTokens} read from the provider's prompt cache
 * @param costMicros       the cost in micro-dollars (USD 10<sup>-6</sup>) at catalog list prices; models without a
 *                         price add nothing
 */
public record UsageCounts(long requests, long promptTokens, long completionTokens, long cachedTokens,
                          long costMicros) {

    /** Nothing used. */
    public static final UsageCounts ZERO = new UsageCounts(0, 0, 0, 0, 0);

    public UsageCounts {
        if (requests < 0 || promptTokens < 0 || completionTokens < 0 || cachedTokens < 0 || costMicros < 0) {
            throw new IllegalArgumentException("counts: " + requests + "/" + promptTokens + "/" + completionTokens
                                               + "/" + cachedTokens + "/" + costMicros + " (expected: >= 0)");
        }
    }

    /** Returns prompt plus completion tokens: what a budget's {@code tokens} cap counts. */
    public long tokens() {
        return promptTokens + completionTokens;
    }

    /** Returns the sum of these counts and {@code other}'s. */
    public UsageCounts plus(UsageCounts other) {
        return new UsageCounts(requests + other.requests, promptTokens + other.promptTokens,
                               completionTokens + other.completionTokens, cachedTokens + other.cachedTokens,
                               costMicros + other.costMicros);
    }
}
