package dev.detour.provider.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.detour.api.InvalidRequestException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Translates an OpenAI chat request into a Bedrock Converse request body (providers.md §8, in the spirit of §9.1).
 *
 * <ul>
 *   <li>{@code system} and {@code developer} messages become {@code system} text blocks, in order (one in mid
 *       conversation is hoisted: Converse has no system turn);</li>
 *   <li>user text and {@code data:} URL images become {@code text} and {@code image} blocks ({@code png},
 *       {@code jpeg}, {@code gif}, {@code webp}); image URLs are refused, since Converse takes bytes only;</li>
 *   <li>assistant {@code tool_calls} become {@code toolUse} blocks (arguments parsed: invalid JSON is the client's
 *       400), {@code tool} messages {@code toolResult} blocks in a user turn;</li>
 *   <li>consecutive turns of one role are merged, as Converse requires alternating roles;</li>
 *   <li>{@code tools} become {@code toolConfig.tools[].toolSpec}, {@code tool_choice} {@code toolChoice};</li>
 *   <li>{@code max_completion_tokens} (or {@code max_tokens}), {@code temperature}, {@code top_p} and {@code stop}
 *       become {@code inferenceConfig}.</li>
 * </ul>
 * {@code n} other than 1, JSON response formats and audio are refused; {@code seed}, {@code logit_bias},
 * {@code logprobs}, {@code top_logprobs}, penalties, {@code user}, {@code parallel_tool_calls} and the other
 * OpenAI-only fields are dropped.
 *
 * <p>Thread-safe, stateless.
 */
final class ConverseRequests {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private ConverseRequests() {
    }

    /**
     * Returns the Converse body for the OpenAI chat request {@code request}.
     *
     * @throws InvalidRequestException if the request asks for something Converse cannot do, or is malformed
     */
    static byte[] translate(JsonNode request) throws InvalidRequestException {
        refuseUnsupported(request);
        ObjectNode out = NODES.objectNode();
        ArrayNode system = NODES.arrayNode();
        List<ObjectNode> turns = new ArrayList<>();
        Set<String> toolNamesUsed = new LinkedHashSet<>();
        boolean toolBlocks = false;
        JsonNode messages = request.get("messages");
        if (messages == null || !messages.isArray()) {
            throw new InvalidRequestException("messages: expected an array of messages", "messages", null);
        }
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject()) {
                throw new InvalidRequestException(where + ": expected an object", where, null);
            }
            String role = m.path("role").asText("");
            switch (role) {
                case "system":
                case "developer":
                    for (String text : texts(m.get("content"), where)) {
                        if (!text.isEmpty()) {
                            system.add(NODES.objectNode().put("text", text));
                        }
                    }
                    break;
                case "user":
                    append(turns, "user", userBlocks(m.get("content"), where));
                    break;
                case "assistant":
                    ArrayNode blocks = assistantBlocks(m, where, toolNamesUsed);
                    toolBlocks |= m.path("tool_calls").size() > 0;
                    if (!blocks.isEmpty()) {
                        append(turns, "assistant", blocks);
                    }
                    break;
                case "tool":
                    append(turns, "user", NODES.arrayNode().add(toolResult(m, where)));
                    toolBlocks = true;
                    break;
                default:
                    throw new InvalidRequestException(where + ".role: '" + role + "' is not supported by Bedrock "
                                                      + "(expected: system, developer, user, assistant or tool)",
                                                      where + ".role", null);
            }
        }
        ArrayNode outMessages = out.putArray("messages");
        for (ObjectNode turn : turns) {
            outMessages.add(turn);
        }
        if (!system.isEmpty()) {
            out.set("system", system);
        }
        ObjectNode inference = inferenceConfig(request);
        if (!inference.isEmpty()) {
            out.set("inferenceConfig", inference);
        }
        ObjectNode toolConfig = toolConfig(request, toolBlocks, toolNamesUsed);
        if (toolConfig != null) {
            out.set("toolConfig", toolConfig);
        }
        try {
            return JSON.writeValueAsBytes(out);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise a JSON tree", e);
        }
    }

    /** Returns whether the client asked for the usage chunk ({@code stream_options.include_usage}). */
    static boolean includeUsage(JsonNode request) {
        return request.path("stream_options").path("include_usage").asBoolean(false);
    }

    private static void refuseUnsupported(JsonNode request) throws InvalidRequestException {
        JsonNode n = request.get("n");
        if (n != null && !n.isNull() && n.asInt(1) != 1) {
            throw new InvalidRequestException("n: " + n + " (Bedrock returns one choice per request; expected: 1)",
                                              "n", null);
        }
        String format = request.path("response_format").path("type").asText("text");
        if (!"text".equals(format)) {
            throw new InvalidRequestException("response_format: '" + format + "' is not supported by the Bedrock "
                                              + "provider (expected: text)", "response_format", null);
        }
        JsonNode audio = request.get("audio");
        boolean audioAsked = audio != null && !audio.isNull();
        for (JsonNode modality : request.path("modalities")) {
            audioAsked |= "audio".equals(modality.asText());
        }
        if (audioAsked) {
            throw new InvalidRequestException("audio output is not supported by the Bedrock provider", "modalities",
                                              null);
        }
    }

    /** Appends {@code blocks} as a {@code role} turn, merged into the previous turn when it has the same role. */
    private static void append(List<ObjectNode> turns, String role, ArrayNode blocks) {
        ObjectNode last = turns.isEmpty() ? null : turns.get(turns.size() - 1);
        if (last != null && role.equals(last.get("role").asText())) {
            ((ArrayNode) last.get("content")).addAll(blocks);
            return;
        }
        ObjectNode turn = NODES.objectNode().put("role", role);
        turn.set("content", blocks);
        turns.add(turn);
    }

    /** Returns the texts of a system, assistant or tool {@code content}: a string or an array of text parts. */
    private static List<String> texts(JsonNode content, String where) throws InvalidRequestException {
        List<String> texts = new ArrayList<>(1);
        if (content == null || content.isNull()) {
            return texts;
        }
        if (content.isTextual()) {
            texts.add(content.asText());
            return texts;
        }
        if (!content.isArray()) {
            throw new InvalidRequestException(where + ".content: expected a string or an array of parts",
                                              where + ".content", null);
        }
        for (int j = 0; j < content.size(); j++) {
            JsonNode part = content.get(j);
            String type = part.path("type").asText("");
            if ("text".equals(type) || "refusal".equals(type)) {
                texts.add(part.path(type).asText(""));
            } else {
                throw new InvalidRequestException(where + ".content[" + j + "].type: '" + type + "' is not "
                                                  + "supported here (expected: text)", where + ".content", null);
            }
        }
        return texts;
    }

    private static ArrayNode userBlocks(JsonNode content, String where) throws InvalidRequestException {
        ArrayNode blocks = NODES.arrayNode();
        if (content != null && content.isTextual()) {
            blocks.add(NODES.objectNode().put("text", content.asText()));
            return blocks;
        }
        if (content == null || !content.isArray()) {
            throw new InvalidRequestException(where + ".content: expected a string or an array of parts",
                                              where + ".content", null);
        }
        for (int j = 0; j < content.size(); j++) {
            JsonNode part = content.get(j);
            String type = part.path("type").asText("");
            switch (type) {
                case "text":
                    blocks.add(NODES.objectNode().put("text", part.path("text").asText("")));
                    break;
                case "image_url":
                    blocks.add(image(part.get("image_url"), where + ".content[" + j + "]"));
                    break;
                default:
                    throw new InvalidRequestException(where + ".content[" + j + "].type: '" + type + "' is not "
                                                      + "supported by the Bedrock provider (expected: text or "
                                                      + "image_url)", where + ".content", null);
            }
        }
        return blocks;
    }

    /** Returns an {@code image} block for a {@code data:image/...;base64,} URL. */
    private static ObjectNode image(JsonNode imageUrl, String where) throws InvalidRequestException {
        String url = imageUrl == null ? "" : imageUrl.isTextual() ? imageUrl.asText() : imageUrl.path("url").asText("");
        String param = where + ".image_url.url";
        if (!url.regionMatches(true, 0, "data:", 0, 5)) {
            throw new InvalidRequestException(param + ": Bedrock takes images as bytes only and cannot fetch URLs; "
                                              + "send the image inline as a data:image/...;base64, URL", param,
                                              null);
        }
        int comma = url.indexOf(',');
        String meta = comma < 0 ? "" : url.substring(5, comma).toLowerCase(Locale.ROOT);
        if (comma < 0 || !meta.endsWith(";base64")) {
            throw new InvalidRequestException(param + ": expected a base64 data URL (data:image/png;base64,...)",
                                              param, null);
        }
        String format;
        switch (meta.substring(0, meta.length() - ";base64".length())) {
            case "image/png":
                format = "png";
                break;
            case "image/jpeg":
            case "image/jpg":
                format = "jpeg";
                break;
            case "image/gif":
                format = "gif";
                break;
            case "image/webp":
                format = "webp";
                break;
            default:
                throw new InvalidRequestException(param + ": image type '" + meta + "' is not supported by Bedrock "
                                                  + "(expected: png, jpeg, gif or webp)", param, null);
        }
        ObjectNode image = NODES.objectNode().put("format", format);
        image.putObject("source").put("bytes", url.substring(comma + 1));
        ObjectNode block = NODES.objectNode();
        block.set("image", image);
        return block;
    }

    private static ArrayNode assistantBlocks(JsonNode m, String where, Set<String> toolNamesUsed)
            throws InvalidRequestException {
        ArrayNode blocks = NODES.arrayNode();
        for (String text : texts(m.get("content"), where)) {
            if (!text.isEmpty()) { // Converse rejects blank text blocks; an empty assistant text says nothing
                blocks.add(NODES.objectNode().put("text", text));
            }
        }
        JsonNode calls = m.get("tool_calls");
        if (calls == null || calls.isNull()) {
            return blocks;
        }
        for (int j = 0; j < calls.size(); j++) {
            JsonNode call = calls.get(j);
            String at = where + ".tool_calls[" + j + "]";
            String id = call.path("id").asText("");
            String name = call.path("function").path("name").asText("");
            if (id.isEmpty() || name.isEmpty()) {
                throw new InvalidRequestException(at + ": expected an id and a function name", at, null);
            }
            ObjectNode toolUse = NODES.objectNode().put("toolUseId", id).put("name", name);
            toolUse.set("input", arguments(call.path("function").get("arguments"), at + ".function.arguments"));
            blocks.add(NODES.objectNode().set("toolUse", toolUse));
            toolNamesUsed.add(name);
        }
        return blocks;
    }

    private static JsonNode arguments(JsonNode arguments, String param) throws InvalidRequestException {
        if (arguments == null || arguments.isNull()) {
            return NODES.objectNode();
        }
        if (!arguments.isTextual()) {
            return arguments; // some clients send the object itself
        }
        String text = arguments.asText();
        if (text.isBlank()) {
            return NODES.objectNode();
        }
        try {
            JsonNode parsed = JSON.readTree(text);
            if (parsed == null) {
                throw new IOException("empty");
            }
            return parsed;
        } catch (IOException e) {
            throw new InvalidRequestException(param + ": not valid JSON (Bedrock needs the tool input as JSON)",
                                              param, null);
        }
    }

    private static ObjectNode toolResult(JsonNode m, String where) throws InvalidRequestException {
        String id = m.path("tool_call_id").asText("");
        if (id.isEmpty()) {
            throw new InvalidRequestException(where + ".tool_call_id: required for a tool message",
                                              where + ".tool_call_id", null);
        }
        ArrayNode content = NODES.arrayNode();
        for (String text : texts(m.get("content"), where)) {
            content.add(NODES.objectNode().put("text", text));
        }
        ObjectNode result = NODES.objectNode().put("toolUseId", id);
        result.set("content", content);
        return NODES.objectNode().set("toolResult", result);
    }

    private static ObjectNode inferenceConfig(JsonNode request) throws InvalidRequestException {
        ObjectNode config = NODES.objectNode();
        JsonNode max = request.get("max_completion_tokens");
        if (max == null || max.isNull()) {
            max = request.get("max_tokens");
        }
        if (max != null && !max.isNull()) {
            if (!max.canConvertToInt() || !max.isIntegralNumber() || max.asInt() < 1) {
                throw new InvalidRequestException("max_completion_tokens: " + max + " (expected: an integer > 0)",
                                                  "max_completion_tokens", null);
            }
            config.put("maxTokens", max.asInt());
        }
        copyNumber(request, "temperature", config, "temperature");
        copyNumber(request, "top_p", config, "topP");
        JsonNode stop = request.get("stop");
        if (stop != null && !stop.isNull()) {
            ArrayNode sequences = NODES.arrayNode();
            if (stop.isTextual()) {
                sequences.add(stop.asText());
            } else if (stop.isArray()) {
                for (JsonNode s : stop) {
                    if (!s.isTextual()) {
                        throw new InvalidRequestException("stop: expected a string or an array of strings", "stop",
                                                          null);
                    }
                    sequences.add(s.asText());
                }
            } else {
                throw new InvalidRequestException("stop: expected a string or an array of strings", "stop", null);
            }
            if (!sequences.isEmpty()) {
                config.set("stopSequences", sequences);
            }
        }
        return config;
    }

    private static void copyNumber(JsonNode from, String name, ObjectNode to, String as)
            throws InvalidRequestException {
        JsonNode v = from.get(name);
        if (v == null || v.isNull()) {
            return;
        }
        if (!v.isNumber()) {
            throw new InvalidRequestException(name + ": " + v + " (expected: a number)", name, null);
        }
        to.set(as, v);
    }

    /**
     * Returns the {@code toolConfig}, or {@code null} for none. Converse refuses {@code toolUse} and
     * {@code toolResult} blocks without a {@code toolConfig}, so a conversation that used tools keeps one even under
     * {@code tool_choice: "none"} (which Converse cannot express) or without {@code tools}: then the names the
     * history used are declared with an open schema.
     */
    private static ObjectNode toolConfig(JsonNode request, boolean toolBlocks, Set<String> toolNamesUsed)
            throws InvalidRequestException {
        ArrayNode tools = NODES.arrayNode();
        JsonNode declared = request.get("tools");
        if (declared != null && !declared.isNull()) {
            if (!declared.isArray()) {
                throw new InvalidRequestException("tools: expected an array", "tools", null);
            }
            for (int i = 0; i < declared.size(); i++) {
                tools.add(toolSpec(declared.get(i), "tools[" + i + "]"));
            }
        }
        JsonNode choice = request.get("tool_choice");
        ObjectNode toolChoice = null;
        boolean none = false;
        if (choice != null && !choice.isNull()) {
            if (choice.isTextual()) {
                switch (choice.asText()) {
                    case "auto":
                        break; // Converse's default; some models refuse an explicit toolChoice
                    case "required":
                        toolChoice = NODES.objectNode();
                        toolChoice.putObject("any");
                        break;
                    case "none":
                        none = true;
                        break;
                    default:
                        throw new InvalidRequestException("tool_choice: '" + choice.asText() + "' (expected: none, "
                                                          + "auto, required or a function)", "tool_choice", null);
                }
            } else if ("function".equals(choice.path("type").asText()) && choice.path("function").has("name")) {
                toolChoice = NODES.objectNode();
                toolChoice.putObject("tool").put("name", choice.path("function").path("name").asText());
            } else {
                throw new InvalidRequestException("tool_choice: " + choice + " is not supported by the Bedrock "
                                                  + "provider (expected: none, auto, required or a function)",
                                                  "tool_choice", null);
            }
        }
        if (none && !toolBlocks) {
            return null;
        }
        if (tools.isEmpty()) {
            if (!toolBlocks) {
                return null;
            }
            for (String name : toolNamesUsed) {
                ObjectNode spec = NODES.objectNode().put("name", name);
                spec.putObject("inputSchema").putObject("json").put("type", "object");
                tools.add(NODES.objectNode().set("toolSpec", spec));
            }
        }
        ObjectNode config = NODES.objectNode();
        config.set("tools", tools);
        if (toolChoice != null && !none) {
            config.set("toolChoice", toolChoice);
        }
        return config;
    }

    private static ObjectNode toolSpec(JsonNode tool, String where) throws InvalidRequestException {
        if (!"function".equals(tool.path("type").asText())) {
            throw new InvalidRequestException(where + ".type: '" + tool.path("type").asText() + "' is not supported "
                                              + "by the Bedrock provider (expected: function)", where + ".type", null);
        }
        JsonNode function = tool.path("function");
        String name = function.path("name").asText("");
        if (name.isEmpty()) {
            throw new InvalidRequestException(where + ".function.name: required", where + ".function.name", null);
        }
        ObjectNode spec = NODES.objectNode().put("name", name);
        String description = function.path("description").asText("");
        if (!description.isEmpty()) {
            spec.put("description", description);
        }
        JsonNode parameters = function.get("parameters");
        ObjectNode schema = spec.putObject("inputSchema");
        if (parameters != null && parameters.isObject()) {
            schema.set("json", parameters);
        } else {
            schema.putObject("json").put("type", "object").putObject("properties");
        }
        return NODES.objectNode().set("toolSpec", spec);
    }
}
