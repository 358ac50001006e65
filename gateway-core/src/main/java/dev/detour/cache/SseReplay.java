package dev.detour.cache;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * Replays a stored {@code chat.completion} as the event stream a streaming request expects: per choice, a
 * role chunk, the text fields, one chunk per tool call, a finish chunk; then a usage chunk
 * ({@code "choices": []}) when the request asked for {@code stream_options.include_usage} and the answer
 * has usage; then {@code data: [DONE]}.
 *
 * <p>Each text field goes out whole in one chunk: a replay has nothing to wait for, so there is no point in
 * splitting it. Message fields that are neither text nor known (audio, for one) are not replayed.
 *
 * <p>Stateless and thread-safe.
 */
final class SseReplay {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectReader READER = JSON.reader();
    private static final byte[] PREFIX = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);
    /** Message fields replayed in their own chunks, not as plain text. */
    private static final Set<String> STRUCTURED = Set.of("role", "content", "refusal", "tool_calls", "function_call",
                                                         "annotations");

    private SseReplay() {
    }

    /**
     * Returns the SSE body for {@code completion}.
     *
     * @param includeUsage whether the request asked for the usage chunk
     * @throws IOException if {@code completion} is not a {@code chat.completion}
     */
    static byte[] render(byte[] completion, boolean includeUsage) throws IOException {
        JsonNode root = READER.readTree(completion);
        if (root == null || !root.path("choices").isArray()) {
            throw new IOException("not a chat.completion");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(completion.length * 2 + 256);
        for (JsonNode choice : root.get("choices")) {
            choice(out, root, choice, includeUsage);
        }
        JsonNode usage = root.get("usage");
        if (includeUsage && usage != null && usage.isObject()) {
            try (JsonGenerator gen = event(out)) {
                head(gen, root);
                gen.writeArrayFieldStart("choices");
                gen.writeEndArray();
                gen.writeFieldName("usage");
                gen.writeTree(usage);
                gen.writeEndObject();
            }
            out.write(END);
        }
        out.write(DONE);
        return out.toByteArray();
    }

    private static void choice(ByteArrayOutputStream out, JsonNode root, JsonNode choice, boolean includeUsage)
            throws IOException {
        int index = choice.path("index").asInt(0);
        JsonNode message = choice.path("message");
        JsonNode logprobs = choice.get("logprobs");
        boolean logprobsSent = logprobs == null || logprobs.isNull();
        String role = message.path("role").asText("assistant");
        JsonNode content = message.get("content");
        // The role chunk: with an empty content when the answer has text, as OpenAI's first chunk has.
        try (JsonGenerator gen = chunk(out, root, index, includeUsage)) {
            gen.writeStringField("role", role);
            if (content != null && content.isTextual()) {
                gen.writeStringField("content", "");
            }
            endChunk(gen, null, null);
        }
        out.write(END);
        for (Iterator<Map.Entry<String, JsonNode>> it = message.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (!STRUCTURED.contains(field.getKey()) && field.getValue().isTextual()) {
                textChunk(out, root, index, includeUsage, field.getKey(), field.getValue().textValue(), null);
            }
        }
        if (content != null && content.isTextual() && !content.textValue().isEmpty()) {
            textChunk(out, root, index, includeUsage, "content", content.textValue(), logprobsSent ? null : logprobs);
            logprobsSent = true;
        }
        JsonNode refusal = message.get("refusal");
        if (refusal != null && refusal.isTextual()) {
            textChunk(out, root, index, includeUsage, "refusal", refusal.textValue(), logprobsSent ? null : logprobs);
            logprobsSent = true;
        }
        JsonNode toolCalls = message.get("tool_calls");
        if (toolCalls != null && toolCalls.isArray()) {
            int at = 0;
            for (JsonNode call : toolCalls) {
                try (JsonGenerator gen = chunk(out, root, index, includeUsage)) {
                    gen.writeArrayFieldStart("tool_calls");
                    gen.writeStartObject();
                    gen.writeNumberField("index", at++);
                    copyText(gen, call, "id");
                    copyText(gen, call, "type");
                    gen.writeObjectFieldStart("function");
                    copyText(gen, call.path("function"), "name");
                    copyText(gen, call.path("function"), "arguments");
                    gen.writeEndObject();
                    gen.writeEndObject();
                    gen.writeEndArray();
                    endChunk(gen, null, null);
                }
                out.write(END);
            }
        }
        JsonNode functionCall = message.get("function_call");
        if (functionCall != null && functionCall.isObject()) {
            try (JsonGenerator gen = chunk(out, root, index, includeUsage)) {
                gen.writeFieldName("function_call");
                gen.writeTree(functionCall);
                endChunk(gen, null, null);
            }
            out.write(END);
        }
        JsonNode annotations = message.get("annotations");
        if (annotations != null && annotations.isArray() && !annotations.isEmpty()) {
            try (JsonGenerator gen = chunk(out, root, index, includeUsage)) {
                gen.writeFieldName("annotations");
                gen.writeTree(annotations);
                endChunk(gen, null, null);
            }
            out.write(END);
        }
        try (JsonGenerator gen = chunk(out, root, index, includeUsage)) {
            endChunk(gen, logprobsSent ? null : logprobs, choice.path("finish_reason").asText("stop"));
        }
        out.write(END);
    }

    private static void textChunk(ByteArrayOutputStream out, JsonNode root, int index, boolean includeUsage,
                                  String field, String text, JsonNode logprobs) throws IOException {
        try (JsonGenerator gen = chunk(out, root, index, includeUsage)) {
            gen.writeStringField(field, text);
            endChunk(gen, logprobs, null);
        }
        out.write(END);
    }

    /** Starts an event and a chunk of one choice, leaving the generator inside its {@code delta}. */
    private static JsonGenerator chunk(ByteArrayOutputStream out, JsonNode root, int index, boolean includeUsage)
            throws IOException {
        JsonGenerator gen = event(out);
        head(gen, root);
        if (includeUsage) {
            gen.writeNullField("usage"); // as OpenAI does on every chunk but the last when usage is asked for
        }
        gen.writeArrayFieldStart("choices");
        gen.writeStartObject();
        gen.writeNumberField("index", index);
        gen.writeObjectFieldStart("delta");
        return gen;
    }

    /** Closes the delta, writes the choice's logprobs and finish reason, and closes the chunk. */
    private static void endChunk(JsonGenerator gen, JsonNode logprobs, String finishReason) throws IOException {
        gen.writeEndObject();
        if (logprobs != null) {
            gen.writeFieldName("logprobs");
            gen.writeTree(logprobs);
        } else {
            gen.writeNullField("logprobs");
        }
        gen.writeStringField("finish_reason", finishReason);
        gen.writeEndObject();
        gen.writeEndArray();
        gen.writeEndObject();
    }

    private static JsonGenerator event(ByteArrayOutputStream out) throws IOException {
        out.write(PREFIX);
        JsonGenerator gen = JSON.getFactory().createGenerator(out);
        gen.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
        return gen;
    }

    private static void head(JsonGenerator gen, JsonNode root) throws IOException {
        gen.writeStartObject();
        copyText(gen, root, "id");
        gen.writeStringField("object", "chat.completion.chunk");
        gen.writeNumberField("created", root.path("created").asLong(0));
        copyText(gen, root, "model");
        if (root.path("system_fingerprint").isTextual()) {
            copyText(gen, root, "system_fingerprint");
        }
        if (root.path("service_tier").isTextual()) {
            copyText(gen, root, "service_tier");
        }
    }

    private static void copyText(JsonGenerator gen, JsonNode from, String field) throws IOException {
        JsonNode v = from.get(field);
        gen.writeStringField(field, v != null && v.isTextual() ? v.textValue() : null);
    }
}
