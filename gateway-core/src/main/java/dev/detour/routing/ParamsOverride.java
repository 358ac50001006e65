package dev.detour.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.detour.api.InvalidRequestException;
import dev.detour.filter.RequestBody;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/**
 * Applies a target's parameter overrides ({@code params} in YAML) to a request body. Only targets with
 * overrides pay for this: the body is parsed, changed and written once per attempt.
 */
final class ParamsOverride {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ParamsOverride() {
    }

    /** Returns {@code body} with every field of {@code params} set, and {@code model} as its model. */
    static byte[] apply(RequestBody body, Map<String, Object> params, String model) throws InvalidRequestException {
        try (InputStream in = body.newInputStream()) {
            JsonNode root = JSON.readTree(in);
            if (!(root instanceof ObjectNode object)) {
                throw new InvalidRequestException("The request body must be a JSON object.", null, "invalid_json");
            }
            for (Map.Entry<String, Object> p : params.entrySet()) {
                object.set(p.getKey(), JSON.valueToTree(p.getValue()));
            }
            object.put("model", model);
            return JSON.writeValueAsBytes(object);
        } catch (IOException e) {
            throw new InvalidRequestException("The request body is not valid JSON.", null, "invalid_json");
        }
    }
}
