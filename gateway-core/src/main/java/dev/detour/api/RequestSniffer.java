package dev.detour.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads {@code model}, {@code stream} and {@code user} from a request body with Jackson's streaming
 * parser, and checks that the whole body is one well-formed JSON object.
 *
 * <p>The body is tokenised once and never turned into a tree: the gateway forwards the original
 * bytes, so it only needs to know where the {@code model} value sits (to rewrite it when a route
 * maps names) and whether the body is valid (to spare an upstream attempt on garbage).
 *
 * <p>Thread-safe.
 */
public final class RequestSniffer {

    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                                           .maxNestingDepth(256)
                                           .maxStringLength(64 * 1024 * 1024)
                                           .build())
            .build();

    private RequestSniffer() {
    }

    /**
     * Sniffs {@code body}.
     *
     * @throws InvalidRequestException when the body is empty, not well-formed JSON, not an object, or
     *                                 has no non-empty string {@code model}, or a non-boolean {@code stream}
     */
    public static SniffedRequest sniff(InputStream body) throws InvalidRequestException {
        String model = null;
        int modelStart = -1;
        int modelEnd = -1;
        boolean stream = false;
        String user = null;
        boolean streamOptions = false;
        boolean includeUsage = false;
        int objectEnd = -1;
        try (JsonParser p = JSON.createParser(body)) {
            JsonToken first = p.nextToken();
            if (first == null) {
                throw invalid("The request body is empty. Send a JSON object, e.g. {\"model\": \"...\", ...}.",
                              null, "invalid_json");
            }
            if (first != JsonToken.START_OBJECT) {
                throw invalid("The request body must be a JSON object, not " + describe(first) + ".", null,
                              "invalid_json");
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "model":
                        if (value != JsonToken.VALUE_STRING) {
                            throw invalid("'model' must be a string, not " + describe(value) + ".", "model",
                                          "invalid_type");
                        }
                        modelStart = (int) p.currentTokenLocation().getByteOffset();
                        model = p.getText();
                        // After the text is read, the parser's position is just past the closing quote.
                        modelEnd = (int) p.currentLocation().getByteOffset();
                        break;
                    case "stream":
                        if (value == JsonToken.VALUE_TRUE) {
                            stream = true;
                        } else if (value == JsonToken.VALUE_FALSE || value == JsonToken.VALUE_NULL) {
                            stream = false;
                        } else {
                            throw invalid("'stream' must be a boolean, not " + describe(value) + ".", "stream",
                                          "invalid_type");
                        }
                        break;
                    case "user":
                        if (value == JsonToken.VALUE_STRING) {
                            user = p.getText();
                        } else if (value != JsonToken.VALUE_NULL) {
                            throw invalid("'user' must be a string, not " + describe(value) + ".", "user",
                                          "invalid_type");
                        }
                        break;
                    case "stream_options":
                        streamOptions = true;
                        if (value == JsonToken.START_OBJECT) {
                            while (p.nextToken() == JsonToken.FIELD_NAME) {
                                String option = p.currentName();
                                JsonToken v = p.nextToken();
                                if ("include_usage".equals(option)) {
                                    includeUsage = v == JsonToken.VALUE_TRUE;
                                } else {
                                    p.skipChildren();
                                }
                            }
                        } else {
                            p.skipChildren();
                        }
                        break;
                    default:
                        p.skipChildren();
                        break;
                }
            }
            if (t != JsonToken.END_OBJECT) {
                throw invalid("The request body is not valid JSON.", null, "invalid_json");
            }
            objectEnd = (int) p.currentTokenLocation().getByteOffset();
            JsonToken trailing = p.nextToken();
            if (trailing != null) {
                throw invalid("The request body has data after the JSON object.", null, "invalid_json");
            }
        } catch (JsonParseException e) {
            throw invalid("The request body is not valid JSON: " + e.getOriginalMessage()
                          + " (at line " + e.getLocation().getLineNr() + ", column "
                          + e.getLocation().getColumnNr() + ").", null, "invalid_json");
        } catch (IOException e) {
            throw invalid("The request body could not be read as JSON: " + e.getMessage(), null, "invalid_json");
        }
        if (model == null) {
            throw invalid("The request has no 'model'. Name one of the models listed at GET /v1/models.",
                          "model", "missing_model");
        }
        if (model.isBlank()) {
            throw invalid("'model' is empty. Name one of the models listed at GET /v1/models.", "model",
                          "missing_model");
        }
        return new SniffedRequest(model, stream, user, modelStart, modelEnd, streamOptions, includeUsage, objectEnd);
    }

    private static InvalidRequestException invalid(String message, String param, String code) {
        return new InvalidRequestException(message, param, code);
    }

    private static String describe(JsonToken token) {
        if (token == null) {
            return "nothing";
        }
        switch (token) {
            case START_ARRAY:
                return "an array";
            case START_OBJECT:
                return "an object";
            case VALUE_STRING:
                return "a string";
            case VALUE_NUMBER_INT:
            case VALUE_NUMBER_FLOAT:
                return "a number";
            case VALUE_TRUE:
            case VALUE_FALSE:
                return "a boolean";
            case VALUE_NULL:
                return "null";
            default:
                return token.asString() == null ? token.name() : token.asString();
        }
    }
}
