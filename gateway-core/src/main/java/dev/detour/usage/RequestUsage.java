package dev.detour.usage;

/**
 * What one request used, as {@link UsageRecorder#record} counted it: for the access log.
 *
 * @param promptTokens     prompt tokens, or -1 when the provider reported no usage
 * @param completionTokens completion tokens, or -1 when the provider reported no usage
 * @param cachedTokens     prompt tokens read from the provider's cache, or -1 when not reported
 * @param costMicros       cost in micro-dollars at list price, or -1 when there is no usage or no price
 */
public record RequestUsage(long promptTokens, long completionTokens, long cachedTokens, long costMicros) {

    /** A request that reached no provider, or whose provider reported no usage. */
    public static final RequestUsage NONE = new RequestUsage(-1, -1, -1, -1);
}
