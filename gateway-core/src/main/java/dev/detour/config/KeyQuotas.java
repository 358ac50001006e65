package dev.detour.config;

/**
 * Local quotas Detour counts for one key, so that it rotates a key out before the provider refuses it.
 * A value of {@code 0} means no limit.
 *
 * @param requestsPerMinute requests in a one-minute window
 * @param tokensPerMinute   prompt plus completion tokens in a one-minute window
 * @param requestsPerDay    requests in a UTC day
 * @param tokensPerDay      tokens in a UTC day
 */
public record KeyQuotas(long requestsPerMinute, long tokensPerMinute, long requestsPerDay, long tokensPerDay) {

    /** No local quotas. */
    public static final KeyQuotas NONE = new KeyQuotas(0, 0, 0, 0);

    public KeyQuotas {
        if (requestsPerMinute < 0 || tokensPerMinute < 0 || requestsPerDay < 0 || tokensPerDay < 0) {
            throw new IllegalArgumentException("quotas must be >= 0");
        }
    }

    /** Returns whether any quota is set. */
    public boolean any() {
        return requestsPerMinute > 0 || tokensPerMinute > 0 || requestsPerDay > 0 || tokensPerDay > 0;
    }
}
