package dev.detour.provider.mock;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What the mock needs from a {@code /v1/embeddings} request.
 *
 * @param seeds        one seed per input, derived from its text or tokens, in input order
 * @param promptTokens the deterministic token estimate of all inputs, at least 1
 * @param dimensions   the vector length
 * @param base64       whether vectors are sent as base64 little-endian float32 instead of arrays
 */
record EmbeddingRequest(List<Long> seeds, int promptTokens, int dimensions, boolean base64) {

    /**
     * The largest {@code dimensions} a request may ask for: above OpenAI's largest model (3072), and low
     * enough that one request cannot make the mock allocate without bound.
     */
    static final int MAX_DIMENSIONS = 4096;

    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;
    /** Keeps a token array from hashing like the text whose bytes happen to match. */
    private static final long TOKENS_TAG = 0x746f6b656e73L;

    EmbeddingRequest {
        seeds = List.copyOf(seeds);
    }

    /** Reads a body; {@code defaultDimensions} applies when it names none. */
    static EmbeddingRequest of(JsonNode root, int defaultDimensions) throws BadRequestException {
        JsonNode input = RequestFields.required(root, "input");
        List<Long> seeds = new ArrayList<>();
        long tokens = 0;
        if (input.isTextual()) {
            seeds.add(seedOfText(input.textValue()));
            tokens = RequestFields.tokensOfChars(input.textValue().length());
        } else if (input.isArray() && !input.isEmpty()) {
            JsonNode first = input.get(0);
            if (first.isIntegralNumber()) {
                seeds.add(seedOfTokens(input));
                tokens = input.size();
            } else {
                for (JsonNode element : input) {
                    if (element.isTextual() && first.isTextual()) {
                        seeds.add(seedOfText(element.textValue()));
                        tokens += RequestFields.tokensOfChars(element.textValue().length());
                    } else if (element.isArray() && first.isArray()) {
                        seeds.add(seedOfTokens(element));
                        tokens += element.size();
                    } else {
                        throw RequestFields.invalidType(
                                "input", "a string, an array of strings, a token array or an array of token arrays",
                                element);
                    }
                }
            }
        } else {
            throw RequestFields.invalidType("input", "a string or a non-empty array", input);
        }
        return new EmbeddingRequest(seeds, (int) Math.max(1, Math.min(tokens, Integer.MAX_VALUE)),
                                    dimensions(root, defaultDimensions), base64(root));
    }

    private static int dimensions(JsonNode root, int defaultDimensions) throws BadRequestException {
        JsonNode value = root.path("dimensions");
        if (value.isMissingNode() || value.isNull()) {
            return defaultDimensions;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt()) {
            throw RequestFields.invalidType("dimensions", "an integer", value);
        }
        int dimensions = value.intValue();
        if (dimensions < 1 || dimensions > MAX_DIMENSIONS) {
            throw new BadRequestException("Invalid 'dimensions': " + dimensions + " (expected: 1.." + MAX_DIMENSIONS
                                          + ").", "dimensions", "invalid_value");
        }
        return dimensions;
    }

    private static boolean base64(JsonNode root) throws BadRequestException {
        JsonNode value = root.path("encoding_format");
        if (value.isMissingNode() || value.isNull() || "float".equals(value.asText(null))) {
            return false;
        }
        if ("base64".equals(value.asText(null))) {
            return true;
        }
        throw new BadRequestException("Invalid 'encoding_format': expected 'float' or 'base64'.", "encoding_format",
                                      "invalid_value");
    }

    /** Returns a 64-bit FNV-1a hash of the text's UTF-8 bytes: stable across runs and JVMs, unlike hashCode. */
    private static long seedOfText(String text) {
        long hash = FNV_OFFSET;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            hash = (hash ^ (b & 0xff)) * FNV_PRIME;
        }
        return hash;
    }

    private static long seedOfTokens(JsonNode tokens) throws BadRequestException {
        long hash = FNV_OFFSET ^ TOKENS_TAG;
        for (JsonNode token : tokens) {
            if (!token.isIntegralNumber() || !token.canConvertToInt()) {
                throw RequestFields.invalidType("input", "an array of integer tokens", token);
            }
            hash = (hash ^ token.intValue()) * FNV_PRIME;
        }
        return hash;
    }
}
