package dev.detour.api;

/**
 * Where a response translator reports the token usage it read from a provider's answer, in OpenAI's terms,
 * so that the usage is known whether or not the client sees it (a stream whose client did not ask for
 * {@code stream_options.include_usage} shows none).
 *
 * <p>Figures are OpenAI's: {@code promptTokens} includes cached prompt tokens, and {@code cachedTokens} is the
 * part of the prompt read from the provider's prompt cache ({@code prompt_tokens_details.cached_tokens},
 * Anthropic's {@code cache_read_input_tokens}, Gemini's {@code cachedContentTokenCount}, Bedrock's
 * {@code cacheReadInputTokens}). A figure the provider did not report is -1.
 *
 * <p>Called on the request's event loop, at most a few times per response (the last report wins).
 */
@FunctionalInterface
public interface UsageSink {

    /** A sink that drops every report: for requests whose usage nobody needs. */
    UsageSink NONE = (promptTokens, completionTokens, totalTokens, cachedTokens) -> { };

    /**
     * Reports the usage of the whole answer.
     *
     * @param promptTokens     prompt tokens, or -1
     * @param completionTokens completion tokens, or -1
     * @param totalTokens      total tokens, or -1 (then prompt plus completion, when both are known)
     * @param cachedTokens     the part of the prompt read from the provider's cache, or -1
     */
    void record(long promptTokens, long completionTokens, long totalTokens, long cachedTokens);
}
