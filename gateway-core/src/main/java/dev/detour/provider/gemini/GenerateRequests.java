package dev.detour.provider.gemini;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.detour.api.InvalidRequestException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Maps an OpenAI chat or legacy completion request to a Gemini {@code GenerateContentRequest}
 * ({@code providers.md} §5.1, §9.4).
 *
 * <p>Works on a Jackson tree: this is the translation path, not the zero-copy one, and merging consecutive turns
 * of one role needs the whole conversation. Thread-safe, stateless.
 */
final class GenerateRequests {

    /** Fails on trailing tokens, so that a tool result such as {@code 42 apples} is text, not the number 42. */
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final String USER = "user";
    private static final String MODEL = "model";
    private static final String UNSUPPORTED_VALUE = "unsupported_value";
    private static final String UNSUPPORTED_PARAMETER = "unsupported_parameter";
    private static final String INVALID_VALUE = "invalid_value";
    private static final String INVALID_TYPE = "invalid_type";

    private GenerateRequests() {
    }

    /**
     * Returns the {@code generateContent} body for a chat completion request.
     *
     * @throws InvalidRequestException when the request asks for something Gemini cannot do (several choices,
     *                                 audio output, a non-function tool, an image URL of unknown type) or is
     *                                 inconsistent (a tool result without its call, arguments that are not JSON)
     */
    static byte[] fromChat(JsonNode request) throws InvalidRequestException {
        JsonNode messages = request.get("messages");
        if (messages == null || !messages.isArray()) {
            throw new InvalidRequestException("'messages' must be an array of messages.", "messages", INVALID_TYPE);
        }
        refuseAudioOutput(request);
        ObjectNode out = NODES.objectNode();
        ArrayNode contents = NODES.arrayNode();
        ArrayNode system = NODES.arrayNode();
        Map<String, String> callNames = new HashMap<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode message = messages.get(i);
            String param = "messages[" + i + "]";
            if (!message.isObject()) {
                throw new InvalidRequestException(param + " must be an object.", param, INVALID_TYPE);
            }
            String role = text(message, "role");
            if (role == null) {
                throw new InvalidRequestException(param + ".role is missing.", param + ".role", INVALID_VALUE);
            }
            switch (role) {
                case "system":
                case "developer":
                    // Gemini has one system instruction: system turns anywhere in the conversation join it, in order.
                    system.addAll(textParts(message.get("content"), param + ".content"));
                    break;
                case "user":
                    append(contents, USER, Parts.user(message.get("content"), param + ".content"));
                    break;
                case "assistant":
                    append(contents, MODEL, assistantParts(message, param, callNames));
                    break;
                case "tool":
                    append(contents, USER, toolResult(message, param, callNames));
                    break;
                case "function":
                    append(contents, USER, functionResult(message, param));
                    break;
                default:
                    throw new InvalidRequestException(param + ".role '" + role + "' is not one of system, developer, "
                                                      + "user, assistant, tool.", param + ".role", INVALID_VALUE);
            }
        }
        if (!system.isEmpty()) {
            out.putObject("systemInstruction").set("parts", system);
        }
        out.set("contents", contents);
        ArrayNode declarations = declarations(request);
        ObjectNode toolConfig = toolConfig(request, declarations);
        if (!declarations.isEmpty()) {
            out.putArray("tools").addObject().set("functionDeclarations", declarations);
            if (toolConfig != null) {
                out.putObject("toolConfig").set("functionCallingConfig", toolConfig);
            }
        }
        ObjectNode generation = generationConfig(request);
        responseFormat(request, generation);
        if (!generation.isEmpty()) {
            out.set("generationConfig", generation);
        }
        return write(out);
    }

    /**
     * Returns the {@code generateContent} body for a legacy completion: the prompt becomes one user turn.
     *
     * @throws InvalidRequestException for token prompts, several prompts or choices, {@code echo}, {@code suffix}
     *                                 or {@code best_of}, which Gemini cannot honour
     */
    static byte[] fromCompletion(JsonNode request) throws InvalidRequestException {
        JsonNode prompt = request.get("prompt");
        if (prompt != null && prompt.isArray()) {
            if (prompt.size() != 1) {
                throw new InvalidRequestException("Gemini answers one prompt per request: 'prompt' must be a string "
                                                  + "or an array of exactly one string, not " + prompt.size() + ".",
                                                  "prompt", UNSUPPORTED_VALUE);
            }
            prompt = prompt.get(0);
        }
        if (prompt == null || !prompt.isTextual()) {
            throw new InvalidRequestException("'prompt' must be a string: Gemini does not accept token arrays.",
                                              "prompt", UNSUPPORTED_VALUE);
        }
        if (request.path("echo").asBoolean(false)) {
            throw new InvalidRequestException("'echo' is not supported by this model's provider (Gemini).", "echo",
                                              UNSUPPORTED_PARAMETER);
        }
        JsonNode suffix = request.get("suffix");
        if (suffix != null && !suffix.isNull() && !suffix.asText().isEmpty()) {
            throw new InvalidRequestException("'suffix' is not supported by this model's provider (Gemini).",
                                              "suffix", UNSUPPORTED_PARAMETER);
        }
        JsonNode bestOf = request.get("best_of");
        if (bestOf != null && !bestOf.isNull() && bestOf.asInt(1) != 1) {
            throw new InvalidRequestException("'best_of' must be 1: Gemini returns one candidate per request.",
                                              "best_of", UNSUPPORTED_VALUE);
        }
        ObjectNode out = NODES.objectNode();
        ArrayNode contents = out.putArray("contents");
        ObjectNode turn = contents.addObject();
        turn.put("role", USER);
        turn.putArray("parts").addObject().put("text", prompt.asText());
        ObjectNode generation = generationConfig(request);
        if (!generation.isEmpty()) {
            out.set("generationConfig", generation);
        }
        return write(out);
    }

    /** Appends {@code parts} as a turn of {@code role}, merged into the last turn when it has the same role. */
    private static void append(ArrayNode contents, String role, ArrayNode parts) {
        if (parts.isEmpty()) {
            return; // Gemini rejects a turn without parts; an empty message says nothing anyway.
        }
        if (!contents.isEmpty()) {
            JsonNode last = contents.get(contents.size() - 1);
            if (role.equals(last.get("role").asText())) {
                ((ArrayNode) last.get("parts")).addAll(parts);
                return;
            }
        }
        ObjectNode turn = contents.addObject();
        turn.put("role", role);
        turn.set("parts", parts);
    }

    private static ArrayNode assistantParts(JsonNode message, String param, Map<String, String> callNames)
            throws InvalidRequestException {
        ArrayNode parts = textParts(message.get("content"), param + ".content");
        JsonNode calls = message.get("tool_calls");
        if (calls != null && calls.isArray()) {
            for (int j = 0; j < calls.size(); j++) {
                JsonNode call = calls.get(j);
                String callParam = param + ".tool_calls[" + j + "]";
                JsonNode function = call.path("function");
                String name = text(function, "name");
                if (name == null) {
                    throw new InvalidRequestException(callParam + ".function.name is missing.",
                                                      callParam + ".function.name", INVALID_VALUE);
                }
                String id = text(call, "id");
                if (id != null) {
                    callNames.put(id, name);
                }
                ObjectNode part = parts.addObject();
                ObjectNode functionCall = part.putObject("functionCall");
                functionCall.put("name", name);
                functionCall.set("args", arguments(function.get("arguments"), callParam + ".function.arguments"));
                // Thinking models sign their function calls and expect the signature back unchanged; Google's own
                // OpenAI surface carries it in this field, so clients that keep unknown fields round-trip it.
                String signature = text(call.path("extra_content").path("google"), "thought_signature");
                if (signature != null) {
                    part.put("thoughtSignature", signature);
                }
            }
        }
        JsonNode legacy = message.get("function_call");
        if (legacy != null && legacy.isObject()) {
            String name = text(legacy, "name");
            if (name == null) {
                throw new InvalidRequestException(param + ".function_call.name is missing.",
                                                  param + ".function_call.name", INVALID_VALUE);
            }
            ObjectNode functionCall = parts.addObject().putObject("functionCall");
            functionCall.put("name", name);
            functionCall.set("args", arguments(legacy.get("arguments"), param + ".function_call.arguments"));
        }
        return parts;
    }

    private static JsonNode arguments(JsonNode arguments, String param) throws InvalidRequestException {
        if (arguments == null || arguments.isNull()) {
            return NODES.objectNode();
        }
        if (arguments.isObject()) {
            return arguments; // not OpenAI's shape, but unambiguous
        }
        String text = arguments.asText();
        if (text.isBlank()) {
            return NODES.objectNode();
        }
        JsonNode parsed;
        try {
            parsed = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new InvalidRequestException(param + " is not valid JSON; Gemini needs the call's arguments as a "
                                              + "JSON object.", param, INVALID_VALUE);
        }
        if (parsed == null || !parsed.isObject()) {
            throw new InvalidRequestException(param + " must be a JSON object for Gemini.", param, INVALID_VALUE);
        }
        return parsed;
    }

    private static ArrayNode toolResult(JsonNode message, String param, Map<String, String> callNames)
            throws InvalidRequestException {
        String id = text(message, "tool_call_id");
        if (id == null) {
            throw new InvalidRequestException(param + ".tool_call_id is missing.", param + ".tool_call_id",
                                              INVALID_VALUE);
        }
        // OpenAI's tool message carries no function name, Gemini's functionResponse needs one: take it from the
        // latest earlier call with this id (ids may repeat across turns; the nearest call is the one answered).
        String name = callNames.get(id);
        if (name == null) {
            throw new InvalidRequestException(param + ".tool_call_id '" + id + "' matches no tool call of an earlier "
                                              + "assistant message.", param + ".tool_call_id", INVALID_VALUE);
        }
        return functionResponse(name, contentText(message.get("content"), param + ".content"));
    }

    private static ArrayNode functionResult(JsonNode message, String param) throws InvalidRequestException {
        String name = text(message, "name");
        if (name == null) {
            throw new InvalidRequestException(param + ".name is missing.", param + ".name", INVALID_VALUE);
        }
        return functionResponse(name, contentText(message.get("content"), param + ".content"));
    }

    /** Returns one {@code functionResponse} part; Gemini's {@code response} must be an object. */
    private static ArrayNode functionResponse(String name, String content) {
        JsonNode parsed;
        try {
            parsed = JSON.readTree(content);
        } catch (JsonProcessingException e) {
            parsed = null;
        }
        ObjectNode response;
        if (parsed != null && parsed.isObject()) {
            response = (ObjectNode) parsed;
        } else {
            response = NODES.objectNode();
            if (parsed != null && !parsed.isMissingNode()) {
                response.set("content", parsed);
            } else {
                response.put("content", content);
            }
        }
        ArrayNode parts = NODES.arrayNode();
        ObjectNode functionResponse = parts.addObject().putObject("functionResponse");
        functionResponse.put("name", name);
        functionResponse.set("response", response);
        return parts;
    }

    /** Returns the text of a string content or of an array of text parts, joined. */
    private static String contentText(JsonNode content, String param) throws InvalidRequestException {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isTextual()) {
            return content.asText();
        }
        if (!content.isArray()) {
            throw new InvalidRequestException(param + " must be a string or an array of text parts.", param,
                                              INVALID_TYPE);
        }
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < content.size(); k++) {
            JsonNode part = content.get(k);
            if (!"text".equals(text(part, "type"))) {
                throw new InvalidRequestException(param + "[" + k + "] must be a text part.", param + "[" + k + "]",
                                                  UNSUPPORTED_VALUE);
            }
            sb.append(part.path("text").asText());
        }
        return sb.toString();
    }

    /** Returns {@code {text}} parts of a string content or of an array of text (and refusal) parts. */
    private static ArrayNode textParts(JsonNode content, String param) throws InvalidRequestException {
        ArrayNode parts = NODES.arrayNode();
        if (content == null || content.isNull()) {
            return parts;
        }
        if (content.isTextual()) {
            addText(parts, content.asText());
            return parts;
        }
        if (!content.isArray()) {
            throw new InvalidRequestException(param + " must be a string or an array of parts.", param, INVALID_TYPE);
        }
        for (int k = 0; k < content.size(); k++) {
            JsonNode part = content.get(k);
            String type = text(part, "type");
            if ("text".equals(type)) {
                addText(parts, part.path("text").asText());
            } else if ("refusal".equals(type)) {
                addText(parts, part.path("refusal").asText());
            } else {
                throw new InvalidRequestException(param + "[" + k + "]: part type '" + type + "' is only allowed in "
                                                  + "user messages.", param + "[" + k + "]", UNSUPPORTED_VALUE);
            }
        }
        return parts;
    }

    /** Adds a text part unless the text is empty: Gemini rejects empty text parts. */
    static void addText(ArrayNode parts, String text) {
        if (!text.isEmpty()) {
            parts.addObject().put("text", text);
        }
    }

    private static ArrayNode declarations(JsonNode request) throws InvalidRequestException {
        ArrayNode declarations = NODES.arrayNode();
        JsonNode tools = request.get("tools");
        if (tools != null && tools.isArray()) {
            for (int i = 0; i < tools.size(); i++) {
                JsonNode tool = tools.get(i);
                String param = "tools[" + i + "]";
                String type = text(tool, "type");
                if (type != null && !"function".equals(type)) {
                    throw new InvalidRequestException(param + ": tool type '" + type + "' is not supported by this "
                                                      + "model's provider (Gemini); only function tools are.",
                                                      param + ".type", UNSUPPORTED_VALUE);
                }
                declarations.add(declaration(tool.path("function"), param + ".function"));
            }
        }
        JsonNode functions = request.get("functions");
        if (functions != null && functions.isArray()) {
            for (int i = 0; i < functions.size(); i++) {
                declarations.add(declaration(functions.get(i), "functions[" + i + "]"));
            }
        }
        return declarations;
    }

    private static ObjectNode declaration(JsonNode function, String param) throws InvalidRequestException {
        String name = text(function, "name");
        if (name == null) {
            throw new InvalidRequestException(param + ".name is missing.", param + ".name", INVALID_VALUE);
        }
        ObjectNode declaration = NODES.objectNode();
        declaration.put("name", name);
        String description = text(function, "description");
        if (description != null) {
            declaration.put("description", description);
        }
        JsonNode parameters = function.get("parameters");
        if (parameters != null && parameters.isObject()) {
            ObjectNode schema = Schemas.toGemini(parameters, param + ".parameters");
            // Gemini rejects an OBJECT schema without properties ("should be non-empty for OBJECT type"): a
            // function without parameters simply has no parameters field.
            JsonNode properties = schema.get("properties");
            if (properties != null && !properties.isEmpty()) {
                declaration.set("parameters", schema);
            }
        }
        return declaration;
    }

    /** Returns the {@code functionCallingConfig}, or {@code null} for the default; may narrow the declarations. */
    private static ObjectNode toolConfig(JsonNode request, ArrayNode declarations) throws InvalidRequestException {
        JsonNode choice = request.get("tool_choice");
        String param = "tool_choice";
        if (choice == null || choice.isNull()) {
            choice = request.get("function_call");
            param = "function_call";
        }
        if (choice == null || choice.isNull()) {
            return null;
        }
        ObjectNode config = NODES.objectNode();
        if (choice.isTextual()) {
            switch (choice.asText()) {
                case "auto":
                    config.put("mode", "AUTO");
                    return config;
                case "none":
                    config.put("mode", "NONE");
                    return config;
                case "required":
                    config.put("mode", "ANY");
                    return config;
                default:
                    throw new InvalidRequestException("'" + param + "' must be auto, none, required or a function, "
                                                      + "not '" + choice.asText() + "'.", param, INVALID_VALUE);
            }
        }
        String type = text(choice, "type");
        if ("allowed_tools".equals(type)) {
            JsonNode allowed = choice.path("allowed_tools");
            Set<String> names = new HashSet<>();
            for (JsonNode tool : allowed.path("tools")) {
                String name = text(tool.path("function"), "name");
                if (name != null) {
                    names.add(name);
                }
            }
            if ("required".equals(text(allowed, "mode"))) {
                config.put("mode", "ANY");
                ArrayNode list = config.putArray("allowedFunctionNames");
                for (JsonNode declaration : declarations) {
                    String name = declaration.get("name").asText();
                    if (names.contains(name)) {
                        list.add(name);
                    }
                }
                return config;
            }
            // Gemini takes allowedFunctionNames only in ANY mode: for "auto", offer just the allowed functions.
            for (int i = declarations.size() - 1; i >= 0; i--) {
                if (!names.contains(declarations.get(i).get("name").asText())) {
                    declarations.remove(i);
                }
            }
            config.put("mode", "AUTO");
            return config;
        }
        String name = choice.has("function") ? text(choice.path("function"), "name") : text(choice, "name");
        if (name == null) {
            throw new InvalidRequestException("'" + param + "' names no function.", param, INVALID_VALUE);
        }
        config.put("mode", "ANY");
        config.putArray("allowedFunctionNames").add(name);
        return config;
    }

    private static ObjectNode generationConfig(JsonNode request) throws InvalidRequestException {
        ObjectNode config = NODES.objectNode();
        JsonNode n = request.get("n");
        if (n != null && !n.isNull() && n.asInt(1) != 1) {
            throw new InvalidRequestException("'n' must be 1: this model's provider (Gemini) returns one choice per "
                                              + "request.", "n", UNSUPPORTED_VALUE);
        }
        copyNumber(request, "temperature", config, "temperature");
        copyNumber(request, "top_p", config, "topP");
        copyNumber(request, "top_k", config, "topK");
        JsonNode max = request.get("max_completion_tokens");
        if (max == null || max.isNull()) {
            max = request.get("max_tokens");
        }
        if (max != null && max.isNumber()) {
            config.set("maxOutputTokens", max);
        }
        JsonNode stop = request.get("stop");
        if (stop != null && stop.isTextual()) {
            config.putArray("stopSequences").add(stop.asText());
        } else if (stop != null && stop.isArray() && !stop.isEmpty()) {
            config.set("stopSequences", stop);
        }
        copyNumber(request, "seed", config, "seed");
        // Some Gemini models reject penalties outright, and many clients send an explicit 0: forward only real ones.
        copyNonZero(request, "presence_penalty", config, "presencePenalty");
        copyNonZero(request, "frequency_penalty", config, "frequencyPenalty");
        return config;
    }

    private static void responseFormat(JsonNode request, ObjectNode config) throws InvalidRequestException {
        JsonNode format = request.get("response_format");
        if (format == null || format.isNull()) {
            return;
        }
        String type = text(format, "type");
        if (type == null || "text".equals(type)) {
            return;
        }
        switch (type) {
            case "json_object":
                config.put("responseMimeType", "application/json");
                return;
            case "json_schema":
                config.put("responseMimeType", "application/json");
                JsonNode schema = format.path("json_schema").get("schema");
                if (schema != null && schema.isObject()) {
                    config.set("responseSchema", Schemas.toGemini(schema, "response_format.json_schema.schema"));
                }
                return;
            default:
                throw new InvalidRequestException("response_format.type '" + type + "' is not one of text, "
                                                  + "json_object, json_schema.", "response_format.type",
                                                  INVALID_VALUE);
        }
    }

    private static void refuseAudioOutput(JsonNode request) throws InvalidRequestException {
        JsonNode audio = request.get("audio");
        boolean wantsAudio = audio != null && !audio.isNull();
        for (JsonNode modality : request.path("modalities")) {
            wantsAudio |= "audio".equals(modality.asText().toLowerCase(Locale.ROOT));
        }
        if (wantsAudio) {
            throw new InvalidRequestException("Audio output is not supported by this model's provider (Gemini) "
                                              + "through Detour.", "modalities", UNSUPPORTED_VALUE);
        }
    }

    private static void copyNumber(JsonNode from, String field, ObjectNode to, String name)
            throws InvalidRequestException {
        JsonNode v = from.get(field);
        if (v == null || v.isNull()) {
            return;
        }
        if (!v.isNumber()) {
            throw new InvalidRequestException("'" + field + "' must be a number.", field, INVALID_TYPE);
        }
        to.set(name, v);
    }

    private static void copyNonZero(JsonNode from, String field, ObjectNode to, String name)
            throws InvalidRequestException {
        JsonNode v = from.get(field);
        if (v != null && v.isNumber() && v.asDouble() != 0) {
            copyNumber(from, field, to, name);
        }
    }

    static String text(JsonNode node, String field) {
        JsonNode v = node == null ? null : node.get(field);
        return v == null || !v.isTextual() ? null : v.asText();
    }

    private static byte[] write(ObjectNode body) {
        try {
            return JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of plain nodes always serialises", e);
        }
    }
}
