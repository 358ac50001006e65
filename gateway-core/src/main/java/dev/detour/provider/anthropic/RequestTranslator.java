package dev.detour.provider.anthropic;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.detour.api.InvalidRequestException;
import dev.detour.catalog.ModelInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Translates a client's OpenAI request into an Anthropic Messages request ({@code providers.md} §9.1).
 *
 * <p>What Anthropic cannot do is refused with an {@link InvalidRequestException} naming the field ({@code n > 1},
 * structured output, audio, the deprecated {@code functions}); what means nothing to it ({@code seed},
 * {@code logprobs}, penalties, ...) is dropped. One per request; not thread-safe.
 */
final class RequestTranslator {

    /** The {@code max_tokens} sent when the client gives none and the catalog does not know the model. */
    static final int DEFAULT_MAX_TOKENS = 4096;

    /**
     * The most a default {@code max_tokens} may be, whatever the model's output cap. OpenAI's clients expect
     * no cap when they send none, but Anthropic counts the requested {@code max_tokens} against the key's
     * output-tokens-per-minute limit when it admits a request, so a default of the model's full cap (64000
     * for Claude 4) would exhaust small tiers after one request. A client or a target's {@code params} can
     * always ask for more.
     */
    static final int MAX_DEFAULT_MAX_TOKENS = 8192;

    private static final Logger LOG = LoggerFactory.getLogger(RequestTranslator.class);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final String BASE64_MARKER = ";base64";

    private final String provider;
    private final String model;
    private final int defaultMaxTokens;
    private final List<String> system = new ArrayList<>(2);
    private final List<Turn> turns = new ArrayList<>();

    /**
     * Creates a translator.
     *
     * @param provider         the provider's configured name, for error messages
     * @param model            the upstream model name
     * @param defaultMaxTokens the {@code max_tokens} to send when the client gives none
     */
    RequestTranslator(String provider, String model, int defaultMaxTokens) {
        this.provider = provider;
        this.model = model;
        this.defaultMaxTokens = defaultMaxTokens;
    }

    /**
     * Returns the {@code max_tokens} to send when the client gives none: the model's output cap from the catalog,
     * at most {@link #MAX_DEFAULT_MAX_TOKENS}, or {@link #DEFAULT_MAX_TOKENS} when the catalog does not know the
     * model (Anthropic requires the field).
     */
    static int defaultMaxTokens(Optional<ModelInfo> model) {
        if (model.isEmpty() || model.get().maxOutputTokens() <= 0) {
            return DEFAULT_MAX_TOKENS;
        }
        return Math.min(model.get().maxOutputTokens(), MAX_DEFAULT_MAX_TOKENS);
    }

    /** Translates a {@code /v1/chat/completions} request. */
    Translation chat(JsonNode request, boolean stream) throws InvalidRequestException {
        refuseUnsupported(request);
        JsonNode messages = request.get("messages");
        if (messages == null || !messages.isArray()) {
            throw invalid("'messages' must be an array of messages.", "messages");
        }
        for (int i = 0; i < messages.size(); i++) {
            addMessage(messages.get(i), i);
        }
        ObjectNode body = head(request);
        writeSystem(body);
        body.set("messages", messagesNode());
        writeTools(request, body);
        writeSampling(request, body, stream);
        return new Translation(write(body), stream && includeUsage(request));
    }

    /** Translates a legacy {@code /v1/completions} request: its prompt becomes one user message. */
    Translation completion(JsonNode request, boolean stream) throws InvalidRequestException {
        refuseCount(request, "n");
        refuseCount(request, "best_of");
        if (request.path("echo").asBoolean(false)) {
            throw unsupported("'echo: true'", "echo");
        }
        JsonNode suffix = request.get("suffix");
        if (suffix != null && !suffix.isNull() && !suffix.asText("").isEmpty()) {
            throw unsupported("'suffix' (insertion)", "suffix");
        }
        String prompt = prompt(request.get("prompt"));
        ObjectNode body = head(request);
        ArrayNode messages = body.putArray("messages");
        messages.addObject().put("role", "user").put("content", prompt);
        writeSampling(request, body, stream);
        return new Translation(write(body), stream && includeUsage(request));
    }

    // --- request fields ---

    private void refuseUnsupported(JsonNode request) throws InvalidRequestException {
        refuseCount(request, "n");
        JsonNode format = request.get("response_format");
        if (format != null && !format.isNull()) {
            String type = format.path("type").asText("");
            if (!"text".equals(type)) {
                throw refused("response_format type '" + type + "' is not supported by provider '" + provider
                              + "' (anthropic): the Messages API has no structured output mode. Remove "
                              + "'response_format' or route this model to a provider that supports it.",
                              "response_format");
            }
        }
        if (present(request, "functions") || present(request, "function_call")) {
            String field = present(request, "functions") ? "functions" : "function_call";
            throw refused("'" + field + "' is deprecated and not translated for provider '" + provider
                          + "' (anthropic); use 'tools' and 'tool_choice'.", field);
        }
        if (present(request, "audio")) {
            throw unsupported("audio output", "audio");
        }
        JsonNode modalities = request.get("modalities");
        if (modalities != null && modalities.isArray()) {
            for (JsonNode m : modalities) {
                if (!"text".equals(m.asText())) {
                    throw unsupported("modality '" + m.asText() + "'", "modalities");
                }
            }
        }
    }

    private void refuseCount(JsonNode request, String field) throws InvalidRequestException {
        JsonNode n = request.get(field);
        if (n != null && !n.isNull() && !(n.canConvertToInt() && n.asInt() == 1)) {
            throw refused("'" + field + "': " + n + " is not supported by provider '" + provider
                          + "' (anthropic), which returns one choice per request (expected: 1).", field);
        }
    }

    private ObjectNode head(JsonNode request) throws InvalidRequestException {
        ObjectNode body = NODES.objectNode();
        body.put("model", model);
        body.put("max_tokens", maxTokens(request));
        return body;
    }

    private int maxTokens(JsonNode request) throws InvalidRequestException {
        String field = "max_completion_tokens";
        JsonNode v = request.get(field);
        if (v == null || v.isNull()) {
            field = "max_tokens";
            v = request.get(field);
        }
        if (v == null || v.isNull()) {
            return defaultMaxTokens;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 1) {
            throw invalid("'" + field + "': " + v + " (expected: a positive integer).", field);
        }
        return v.asInt();
    }

    private void writeSampling(JsonNode request, ObjectNode body, boolean stream) throws InvalidRequestException {
        JsonNode stop = request.get("stop");
        if (stop != null && !stop.isNull()) {
            ArrayNode sequences = NODES.arrayNode();
            if (stop.isTextual()) {
                sequences.add(stop.asText());
            } else if (stop.isArray()) {
                for (JsonNode s : stop) {
                    if (!s.isTextual()) {
                        throw invalid("'stop' must be a string or an array of strings.", "stop");
                    }
                    sequences.add(s.asText());
                }
            } else {
                throw invalid("'stop' must be a string or an array of strings.", "stop");
            }
            if (!sequences.isEmpty()) {
                body.set("stop_sequences", sequences);
            }
        }
        JsonNode temperature = number(request, "temperature");
        if (temperature != null) {
            // OpenAI accepts 0-2, Anthropic 0-1: clamp rather than fail a request any OpenAI model would take.
            body.put("temperature", Math.max(0.0, Math.min(1.0, temperature.asDouble())));
        }
        JsonNode topP = number(request, "top_p");
        if (topP != null) {
            body.set("top_p", topP);
        }
        JsonNode user = request.get("user");
        if (user != null && user.isTextual() && !user.asText().isEmpty()) {
            body.putObject("metadata").put("user_id", user.asText());
        }
        if (stream) {
            body.put("stream", true);
        }
    }

    private JsonNode number(JsonNode request, String field) throws InvalidRequestException {
        JsonNode v = request.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isNumber()) {
            throw invalid("'" + field + "': " + v + " (expected: a number).", field);
        }
        return v;
    }

    private static boolean includeUsage(JsonNode request) {
        return request.path("stream_options").path("include_usage").asBoolean(false);
    }

    private String prompt(JsonNode prompt) throws InvalidRequestException {
        JsonNode p = prompt;
        if (p != null && p.isArray() && p.size() == 1) {
            p = p.get(0);
        }
        if (p == null || !p.isTextual()) {
            throw refused("'prompt' must be one string for provider '" + provider + "' (anthropic): several "
                          + "prompts or token arrays are not supported.", "prompt");
        }
        if (p.asText().isEmpty()) {
            throw invalid("'prompt' is empty.", "prompt");
        }
        return p.asText();
    }

    // --- tools ---

    private void writeTools(JsonNode request, ObjectNode body) throws InvalidRequestException {
        JsonNode tools = request.get("tools");
        if (tools == null || tools.isNull() || tools.isArray() && tools.isEmpty()) {
            return; // without tools, tool_choice and parallel_tool_calls mean nothing
        }
        if (!tools.isArray()) {
            throw invalid("'tools' must be an array.", "tools");
        }
        ArrayNode out = body.putArray("tools");
        for (int i = 0; i < tools.size(); i++) {
            JsonNode tool = tools.get(i);
            String param = "tools[" + i + "]";
            String type = tool.path("type").asText("function");
            if (!"function".equals(type)) {
                throw unsupported("tool type '" + type + "'", param + ".type");
            }
            JsonNode function = tool.path("function");
            String name = function.path("name").asText("");
            if (name.isEmpty()) {
                throw invalid("'" + param + ".function.name' is required.", param + ".function.name");
            }
            ObjectNode t = out.addObject();
            t.put("name", name);
            JsonNode description = function.get("description");
            if (description != null && description.isTextual()) {
                t.put("description", description.asText());
            }
            JsonNode parameters = function.get("parameters");
            if (parameters != null && parameters.isObject()) {
                t.set("input_schema", parameters);
            } else {
                t.putObject("input_schema").put("type", "object").putObject("properties");
            }
            // 'strict' has no Anthropic counterpart and is dropped.
        }
        ObjectNode choice = toolChoice(request.get("tool_choice"));
        JsonNode parallel = request.get("parallel_tool_calls");
        if (parallel != null && parallel.isBoolean() && !parallel.asBoolean()) {
            if (choice == null) {
                choice = NODES.objectNode().put("type", "auto");
            }
            if (!"none".equals(choice.path("type").asText())) {
                choice.put("disable_parallel_tool_use", true);
            }
        }
        if (choice != null) {
            body.set("tool_choice", choice);
        }
    }

    private ObjectNode toolChoice(JsonNode choice) throws InvalidRequestException {
        if (choice == null || choice.isNull()) {
            return null;
        }
        if (choice.isTextual()) {
            switch (choice.asText()) {
                case "auto":
                    return NODES.objectNode().put("type", "auto");
                case "required":
                    return NODES.objectNode().put("type", "any");
                case "none":
                    return NODES.objectNode().put("type", "none");
                default:
                    throw invalid("'tool_choice': '" + choice.asText() + "' (expected: auto, required, none or a "
                                  + "named function).", "tool_choice");
            }
        }
        String name = choice.path("function").path("name").asText("");
        if (!"function".equals(choice.path("type").asText()) || name.isEmpty()) {
            throw unsupported("this 'tool_choice' form (expected: auto, required, none or "
                              + "{\"type\":\"function\",\"function\":{\"name\":...}})", "tool_choice");
        }
        return NODES.objectNode().put("type", "tool").put("name", name);
    }

    // --- messages ---

    private void addMessage(JsonNode message, int i) throws InvalidRequestException {
        String param = "messages[" + i + "]";
        if (message == null || !message.isObject()) {
            throw invalid("'" + param + "' must be an object.", param);
        }
        String role = message.path("role").asText("");
        switch (role) {
            case "system":
            case "developer":
                if (!turns.isEmpty() && LOG.isDebugEnabled()) {
                    LOG.debug("a {} message after the conversation started is hoisted into Anthropic's system "
                              + "prompt; its position is lost", role);
                }
                addSystem(message.get("content"), param + ".content");
                break;
            case "user":
                addTurn("user", userBlocks(message.get("content"), param + ".content"));
                break;
            case "assistant":
                addTurn("assistant", assistantBlocks(message, param));
                break;
            case "tool":
                addToolResult(toolResult(message, param));
                break;
            case "function":
                throw refused("'" + param + "': role 'function' is deprecated and not translated for provider '"
                              + provider + "' (anthropic); use 'tool' messages.", param + ".role");
            default:
                throw invalid("'" + param + ".role': '" + role + "' (expected: system, developer, user, assistant "
                              + "or tool).", param + ".role");
        }
    }

    private void addSystem(JsonNode content, String param) throws InvalidRequestException {
        if (content != null && content.isTextual()) {
            if (!content.asText().isEmpty()) {
                system.add(content.asText());
            }
            return;
        }
        if (content == null || !content.isArray()) {
            throw invalid("'" + param + "' must be a string or an array of text parts.", param);
        }
        for (int j = 0; j < content.size(); j++) {
            JsonNode part = content.get(j);
            if (!"text".equals(part.path("type").asText())) {
                throw invalid("'" + param + "[" + j + "]': a system message may only hold text parts.",
                              param + "[" + j + "].type");
            }
            String text = part.path("text").asText("");
            if (!text.isEmpty()) {
                system.add(text);
            }
        }
    }

    private ArrayNode userBlocks(JsonNode content, String param) throws InvalidRequestException {
        ArrayNode blocks = NODES.arrayNode();
        if (content != null && content.isTextual()) {
            addText(blocks, content.asText());
            return blocks;
        }
        if (content == null || !content.isArray()) {
            throw invalid("'" + param + "' must be a string or an array of content parts.", param);
        }
        for (int j = 0; j < content.size(); j++) {
            JsonNode part = content.get(j);
            String partParam = param + "[" + j + "]";
            String type = part.path("type").asText("");
            if ("text".equals(type)) {
                addText(blocks, part.path("text").asText(""));
            } else if ("image_url".equals(type)) {
                blocks.add(image(part.get("image_url"), partParam + ".image_url"));
            } else {
                throw unsupported("content part type '" + type + "'", partParam + ".type");
            }
        }
        return blocks;
    }

    private ArrayNode assistantBlocks(JsonNode message, String param) throws InvalidRequestException {
        ArrayNode blocks = NODES.arrayNode();
        JsonNode content = message.get("content");
        if (content != null && content.isTextual()) {
            addText(blocks, content.asText());
        } else if (content != null && content.isArray()) {
            for (int j = 0; j < content.size(); j++) {
                JsonNode part = content.get(j);
                String type = part.path("type").asText("");
                if ("text".equals(type)) {
                    addText(blocks, part.path("text").asText(""));
                } else if ("refusal".equals(type)) {
                    addText(blocks, part.path("refusal").asText(""));
                } else {
                    throw unsupported("assistant content part type '" + type + "'",
                                      param + ".content[" + j + "].type");
                }
            }
        } else if (content != null && !content.isNull()) {
            throw invalid("'" + param + ".content' must be a string, an array of parts or null.", param + ".content");
        }
        if (present(message, "function_call")) {
            throw refused("'" + param + ".function_call' is deprecated and not translated for provider '"
                          + provider + "' (anthropic); use 'tool_calls'.", param + ".function_call");
        }
        JsonNode calls = message.get("tool_calls");
        if (calls == null || calls.isNull()) {
            return blocks;
        }
        if (!calls.isArray()) {
            throw invalid("'" + param + ".tool_calls' must be an array.", param + ".tool_calls");
        }
        for (int k = 0; k < calls.size(); k++) {
            blocks.add(toolUse(calls.get(k), param + ".tool_calls[" + k + "]"));
        }
        return blocks;
    }

    private ObjectNode toolUse(JsonNode call, String param) throws InvalidRequestException {
        String type = call.path("type").asText("function");
        if (!"function".equals(type)) {
            throw unsupported("tool call type '" + type + "'", param + ".type");
        }
        String id = call.path("id").asText("");
        String name = call.path("function").path("name").asText("");
        if (id.isEmpty() || name.isEmpty()) {
            throw invalid("'" + param + "' needs an 'id' and a 'function.name'.", param);
        }
        ObjectNode block = NODES.objectNode();
        block.put("type", "tool_use");
        block.put("id", id);
        block.put("name", name);
        block.set("input", arguments(call.path("function").get("arguments"), param + ".function.arguments"));
        return block;
    }

    /**
     * Parses a tool call's {@code arguments} string into Anthropic's {@code input} object. Blank means no
     * arguments; anything that is not a JSON object is refused rather than guessed at, since the model would
     * otherwise see a call it never made.
     */
    private ObjectNode arguments(JsonNode arguments, String param) throws InvalidRequestException {
        if (arguments == null || arguments.isNull() || arguments.isTextual() && arguments.asText().isBlank()) {
            return NODES.objectNode();
        }
        if (arguments.isObject()) {
            return (ObjectNode) arguments; // some clients send the object itself
        }
        if (arguments.isTextual()) {
            try {
                JsonNode parsed = MessagesTranslator.JSON.readTree(arguments.asText());
                if (parsed != null && parsed.isObject()) {
                    return (ObjectNode) parsed;
                }
            } catch (JsonProcessingException e) {
                // refused below
            }
        }
        throw invalid("'" + param + "' is not a JSON object, which provider '" + provider + "' (anthropic) needs as "
                      + "the tool input.", param);
    }

    private ObjectNode toolResult(JsonNode message, String param) throws InvalidRequestException {
        String id = message.path("tool_call_id").asText("");
        if (id.isEmpty()) {
            throw invalid("'" + param + ".tool_call_id' is required.", param + ".tool_call_id");
        }
        ObjectNode block = NODES.objectNode();
        block.put("type", "tool_result");
        block.put("tool_use_id", id);
        JsonNode content = message.get("content");
        if (content == null || content.isNull()) {
            block.put("content", "");
        } else if (content.isTextual()) {
            block.put("content", content.asText());
        } else if (content.isArray()) {
            block.set("content", userBlocks(content, param + ".content"));
        } else {
            throw invalid("'" + param + ".content' must be a string or an array of parts.", param + ".content");
        }
        return block;
    }

    private ObjectNode image(JsonNode imageUrl, String param) throws InvalidRequestException {
        JsonNode urlNode = imageUrl != null && imageUrl.isObject() ? imageUrl.get("url") : imageUrl;
        String url = urlNode == null ? "" : urlNode.asText("");
        ObjectNode block = NODES.objectNode();
        block.put("type", "image");
        ObjectNode source = block.putObject("source");
        if (url.startsWith("data:")) {
            int comma = url.indexOf(',');
            String meta = comma < 0 ? "" : url.substring(5, comma);
            if (!meta.endsWith(BASE64_MARKER)) {
                throw invalid("'" + param + ".url': a data URL must be base64-encoded (data:image/png;base64,...).",
                              param + ".url");
            }
            int semicolon = meta.indexOf(';');
            source.put("type", "base64");
            source.put("media_type", meta.substring(0, semicolon));
            source.put("data", url.substring(comma + 1));
            return block;
        }
        if (url.startsWith("https://") || url.startsWith("http://")) {
            source.put("type", "url");
            source.put("url", url);
            return block;
        }
        throw invalid("'" + param + ".url' must be an http(s) URL or a base64 data URL.", param + ".url");
    }

    private static void addText(ArrayNode blocks, String text) {
        if (!text.isEmpty()) { // Anthropic rejects empty text blocks
            blocks.addObject().put("type", "text").put("text", text);
        }
    }

    /** Appends a turn, merging it into the previous one of the same role: Anthropic wants roles to alternate. */
    private void addTurn(String role, ArrayNode blocks) {
        if (blocks.isEmpty()) {
            return;
        }
        Turn last = turns.isEmpty() ? null : turns.get(turns.size() - 1);
        if (last != null && last.role().equals(role)) {
            last.blocks().addAll(blocks);
        } else {
            turns.add(new Turn(role, blocks));
        }
    }

    /**
     * Adds a tool result to the user turn that follows the assistant's calls. Anthropic wants every
     * {@code tool_result} before any other block of that turn, so it goes after the results already there.
     */
    private void addToolResult(ObjectNode block) {
        Turn last = turns.isEmpty() ? null : turns.get(turns.size() - 1);
        if (last == null || !last.role().equals("user")) {
            ArrayNode blocks = NODES.arrayNode();
            blocks.add(block);
            turns.add(new Turn("user", blocks));
            return;
        }
        ArrayNode blocks = last.blocks();
        int at = 0;
        while (at < blocks.size() && "tool_result".equals(blocks.get(at).path("type").asText())) {
            at++;
        }
        blocks.insert(at, block);
    }

    private void writeSystem(ObjectNode body) {
        if (system.isEmpty()) {
            return;
        }
        if (system.size() == 1) {
            body.put("system", system.get(0));
            return;
        }
        ArrayNode blocks = body.putArray("system");
        for (String text : system) {
            blocks.addObject().put("type", "text").put("text", text);
        }
    }

    private ArrayNode messagesNode() {
        ArrayNode messages = NODES.arrayNode(turns.size());
        for (Turn turn : turns) {
            ObjectNode m = messages.addObject();
            m.put("role", turn.role());
            ArrayNode blocks = turn.blocks();
            if (blocks.size() == 1 && "text".equals(blocks.get(0).path("type").asText())) {
                m.put("content", blocks.get(0).path("text").asText()); // the plain form, as Anthropic documents it
            } else {
                m.set("content", blocks);
            }
        }
        return messages;
    }

    private static byte[] write(ObjectNode body) {
        try {
            return MessagesTranslator.JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree could not be written", e);
        }
    }

    private static boolean present(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v != null && !v.isNull();
    }

    private InvalidRequestException unsupported(String what, String param) {
        return refused(what + " is not supported by provider '" + provider + "' (anthropic).", param);
    }

    /** A request Anthropic could serve in principle, but whose value is wrong. */
    private static InvalidRequestException invalid(String message, String param) {
        return new InvalidRequestException(message, param, "invalid_value");
    }

    /** A well-formed request asking for something this provider cannot do. */
    private static InvalidRequestException refused(String message, String param) {
        return new InvalidRequestException(message, param, "unsupported_parameter");
    }

    /** One Anthropic turn being built: merged blocks of consecutive same-role messages. */
    private record Turn(String role, ArrayNode blocks) {
    }

    /** The translated body and what the response translator needs to know about the request. */
    record Translation(byte[] body, boolean includeUsage) {
    }
}
