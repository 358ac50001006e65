package dev.detour.provider.gemini;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.detour.api.InvalidRequestException;

/**
 * Maps an OpenAI embeddings request to a Gemini {@code batchEmbedContents} body ({@code providers.md} §5.4): one
 * request per input text, each repeating the model's resource name. Thread-safe, stateless.
 */
final class EmbedRequests {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private EmbedRequests() {
    }

    /**
     * Returns the batch for {@code request}.
     *
     * @param resource the model's resource name, e.g. {@code models/gemini-embedding-001}
     * @throws InvalidRequestException for token-array input, an empty input list or an unknown encoding format
     */
    static Batch of(JsonNode request, String resource) throws InvalidRequestException {
        JsonNode input = request.get("input");
        ArrayNode texts = NODES.arrayNode();
        if (input != null && input.isTextual()) {
            texts.add(input);
        } else if (input != null && input.isArray() && !input.isEmpty()) {
            for (int i = 0; i < input.size(); i++) {
                if (!input.get(i).isTextual()) {
                    throw tokenInput();
                }
                texts.add(input.get(i));
            }
        } else if (input != null && input.isArray()) {
            throw new InvalidRequestException("'input' must not be empty.", "input", "invalid_value");
        } else {
            throw new InvalidRequestException("'input' must be a string or an array of strings.", "input",
                                              "invalid_type");
        }
        String format = GenerateRequests.text(request, "encoding_format");
        boolean base64 = "base64".equals(format);
        if (format != null && !base64 && !"float".equals(format)) {
            throw new InvalidRequestException("'encoding_format' must be float or base64, not '" + format + "'.",
                                              "encoding_format", "invalid_value");
        }
        JsonNode dimensions = request.get("dimensions");
        ObjectNode body = NODES.objectNode();
        ArrayNode requests = body.putArray("requests");
        for (JsonNode text : texts) {
            ObjectNode item = requests.addObject();
            item.put("model", resource);
            item.putObject("content").putArray("parts").addObject().set("text", text);
            if (dimensions != null && dimensions.isNumber()) {
                item.set("outputDimensionality", dimensions);
            }
        }
        try {
            return new Batch(JSON.writeValueAsBytes(body), texts.size(), base64);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of plain nodes always serialises", e);
        }
    }

    private static InvalidRequestException tokenInput() {
        return new InvalidRequestException("'input' must be a string or an array of strings: this model's provider "
                                           + "(Gemini) does not accept token arrays.", "input", "unsupported_value");
    }

    /**
     * A translated embeddings request.
     *
     * @param body   the {@code batchEmbedContents} body
     * @param count  how many inputs it holds
     * @param base64 whether the client asked for base64-encoded vectors
     */
    record Batch(byte[] body, int count, boolean base64) {
    }
}
