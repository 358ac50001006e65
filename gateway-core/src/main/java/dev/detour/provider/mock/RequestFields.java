package dev.detour.provider.mock;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Reads and checks the request fields the chat and completion endpoints share, with OpenAI's wording
 * for what is wrong.
 */
final class RequestFields {

    private RequestFields() {
    }

    /**
     * Returns {@code max_completion_tokens}, else {@code max_tokens}, else {@code fallback}.
     *
     * @throws BadRequestException when the value is not an integer of at least 1
     */
    static int maxTokens(JsonNode root, int fallback) throws BadRequestException {
        String name = "max_completion_tokens";
        JsonNode value = root.path(name);
        if (value.isMissingNode() || value.isNull()) {
            name = "max_tokens";
            value = root.path(name);
        }
        if (value.isMissingNode() || value.isNull()) {
            return fallback;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt()) {
            throw invalidType(name, "an integer", value);
        }
        int max = value.intValue();
        if (max < 1) {
            throw new BadRequestException("Invalid '" + name + "': integer below minimum value. Expected a value >= 1, "
                                          + "but got " + max + " instead.", name, "integer_below_min_value");
        }
        return max;
    }

    /** Returns {@code stream_options.include_usage}, {@code false} when absent or not a boolean. */
    static boolean includeUsage(JsonNode root) {
        return root.path("stream_options").path("include_usage").asBoolean(false);
    }

    /** Returns {@code field} of {@code root}, failing the way OpenAI does when it is absent. */
    static JsonNode required(JsonNode root, String field) throws BadRequestException {
        JsonNode value = root.path(field);
        if (value.isMissingNode() || value.isNull()) {
            throw new BadRequestException("Missing required parameter: '" + field + "'.", field,
                                          "missing_required_parameter");
        }
        return value;
    }

    /** Returns a bad-type exception for {@code field}. */
    static BadRequestException invalidType(String field, String expected, JsonNode actual) {
        return new BadRequestException("Invalid type for '" + field + "': expected " + expected + ", but got "
                                       + describe(actual) + " instead.", field, "invalid_type");
    }

    /** Returns a token estimate for {@code chars} characters of text: one token per four, rounded up. */
    static int tokensOfChars(long chars) {
        return (int) Math.min((chars + 3) / 4, Integer.MAX_VALUE);
    }

    private static String describe(JsonNode node) {
        switch (node.getNodeType()) {
            case ARRAY:
                return "an array";
            case OBJECT:
                return "an object";
            case STRING:
                return "a string";
            case BOOLEAN:
                return "a boolean";
            case NUMBER:
                return node.isIntegralNumber() ? "an integer out of range" : "a decimal";
            default:
                return "null";
        }
    }
}
