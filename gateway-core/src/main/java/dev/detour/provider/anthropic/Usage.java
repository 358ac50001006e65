package dev.detour.provider.anthropic;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Anthropic's token counts, as OpenAI's {@code usage} reports them ({@code providers.md} §9.5): Anthropic's
 * {@code input_tokens} excludes cached tokens, so the prompt is input plus cache writes plus cache reads.
 *
 * @param input         {@code input_tokens}
 * @param cacheCreation {@code cache_creation_input_tokens}
 * @param cacheRead     {@code cache_read_input_tokens}
 * @param output        {@code output_tokens}
 */
record Usage(long input, long cacheCreation, long cacheRead, long output) {

    static final Usage NONE = new Usage(0, 0, 0, 0);

    /** Returns the counts of an Anthropic {@code usage} object; absent fields count 0. */
    static Usage of(JsonNode usage) {
        return NONE.updatedBy(usage);
    }

    /**
     * Returns these counts with every field present in {@code usage} replacing this one's: a stream's
     * {@code message_delta} carries cumulative counts, not increments.
     */
    Usage updatedBy(JsonNode usage) {
        if (usage == null || !usage.isObject()) {
            return this;
        }
        return new Usage(count(usage, "input_tokens", input), count(usage, "cache_creation_input_tokens", cacheCreation),
                         count(usage, "cache_read_input_tokens", cacheRead), count(usage, "output_tokens", output));
    }

    /** Returns OpenAI's {@code prompt_tokens}. */
    long prompt() {
        return input + cacheCreation + cacheRead;
    }

    /** Returns OpenAI's {@code total_tokens}. */
    long total() {
        return prompt() + output;
    }

    private static long count(JsonNode usage, String field, long otherwise) {
        JsonNode v = usage.get(field);
        return v != null && v.canConvertToLong() ? v.asLong() : otherwise;
    }
}
