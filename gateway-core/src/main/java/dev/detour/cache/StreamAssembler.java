package dev.detour.cache;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.detour.api.UsageScanner;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Assembles an OpenAI chat stream ({@code chat.completion.chunk} events) into the one {@code chat.completion}
 * a non-streamed request would have got, as the events pass.
 *
 * <p>Per choice (by {@code index}, so {@code n > 1} works): the role, content and refusal are concatenated,
 * other string fields of the delta (such as a provider's {@code reasoning_content}) too; tool calls are merged
 * by their {@code index}, with the id and name taken once and the arguments concatenated; {@code annotations}
 * and {@code logprobs} entries are appended; the last {@code finish_reason} wins. The answer's {@code id},
 * {@code created}, {@code model}, {@code system_fingerprint} and {@code service_tier} come from the chunks, its
 * {@code usage} from the usage chunk, else from a {@link UsageScanner} that saw it.
 *
 * <p>The answer is refused ({@link #finish} returns {@code null}) when the stream reports an error, when a
 * chunk is not JSON or has a delta field that cannot be merged, when a choice never finished, or when the
 * assembled answer would exceed the size limit; then what was held is dropped at once, so memory stays
 * bounded by the limit plus one event.
 *
 * <p>One per stream; not thread-safe (the relay calls it on one thread).
 */
final class StreamAssembler {

    private static final ObjectReader READER = new ObjectMapper().reader();
    private static final ObjectMapper WRITER = new ObjectMapper();
    private static final int MAX_CHOICES = 128;
    private static final int MAX_TOOL_CALLS = 1024;
    private static final byte[] DATA = "data:".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] EVENT = "event:".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DONE = "[DONE]".getBytes(StandardCharsets.US_ASCII);

    private final int maxBytes;
    private byte[] pending = new byte[1024];
    private int length;
    /** Roughly what the assembled answer holds so far, checked against {@link #maxBytes}. */
    private long retained;
    private boolean failed;
    private boolean tooLarge;

    private String id;
    private long created = -1;
    private String model;
    private String systemFingerprint;
    private String serviceTier;
    private JsonNode usage;
    private final List<Choice> choices = new ArrayList<>(1);

    /** Creates an assembler that gives up on answers larger than {@code maxBytes}. */
    StreamAssembler(int maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** Takes the next bytes of the stream (any split); does not move {@code bytes}' position. */
    void accept(ByteBuffer bytes) {
        if (failed) {
            return;
        }
        int n = bytes.remaining();
        if ((long) length + n > maxBytes) {
            refuseTooLarge(); // one event larger than the whole answer may be
            return;
        }
        if (length + n > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(length + n, pending.length * 2));
        }
        bytes.duplicate().get(pending, length, n);
        int scanFrom = Math.max(0, length - 3);
        length += n;
        int start = 0;
        for (int i = scanFrom; i < length && !failed; i++) {
            int end = eventEnd(i);
            if (end > 0) {
                event(start, end);
                start = end;
            }
        }
        if (failed) {
            return;
        }
        if (start > 0) {
            System.arraycopy(pending, start, pending, 0, length - start);
            length -= start;
        }
    }

    /** Returns whether the answer was refused (see the class comment); it will not be stored. */
    boolean failed() {
        return failed;
    }

    /** Returns whether it was refused for its size. */
    boolean tooLarge() {
        return tooLarge;
    }

    /**
     * Ends the stream (which ended normally) and returns the assembled {@code chat.completion} JSON, or
     * {@code null} when it cannot be stored.
     *
     * @param fallbackUsage the usage read elsewhere (a usage chunk Detour hid from the client), used when the
     *                      stream itself carried none; may be {@code null}
     */
    byte[] finish(UsageScanner fallbackUsage) {
        if (!failed && length > 0) {
            event(0, length); // a last event without its blank line
            length = 0;
        }
        if (failed || choices.isEmpty() || id == null || model == null) {
            return null;
        }
        for (Choice c : choices) {
            if (c == null || c.finishReason == null || !c.toolCallsComplete()) {
                return null;
            }
        }
        byte[] json;
        try {
            json = write(fallbackUsage);
        } catch (IOException e) {
            return null;
        }
        if (json.length > maxBytes) {
            refuseTooLarge();
            return null;
        }
        return json;
    }

    /** Returns the index just past a blank line ending at {@code i} ({@code \n\n} or {@code \r\n\r\n}), or -1. */
    private int eventEnd(int i) {
        if (pending[i] != '\n') {
            return -1;
        }
        if (i >= 1 && pending[i - 1] == '\n') {
            return i + 1;
        }
        if (i >= 3 && pending[i - 1] == '\r' && pending[i - 2] == '\n' && pending[i - 3] == '\r') {
            return i + 1;
        }
        return -1;
    }

    /** Handles the event in {@code pending[start, end)}: its {@code data:} lines, joined. */
    private void event(int start, int end) {
        ByteArrayOutputStream joined = null;
        int dataStart = -1;
        int dataEnd = -1;
        int lineStart = start;
        while (lineStart < end) {
            int lineEnd = lineStart;
            while (lineEnd < end && pending[lineEnd] != '\n') {
                lineEnd++;
            }
            int contentEnd = lineEnd > lineStart && pending[lineEnd - 1] == '\r' ? lineEnd - 1 : lineEnd;
            if (startsWith(lineStart, contentEnd, DATA)) {
                int from = lineStart + DATA.length;
                if (from < contentEnd && pending[from] == ' ') {
                    from++;
                }
                if (dataStart < 0) {
                    dataStart = from;
                    dataEnd = contentEnd;
                } else {
                    if (joined == null) {
                        joined = new ByteArrayOutputStream();
                        joined.write(pending, dataStart, dataEnd - dataStart);
                    }
                    joined.write('\n');
                    joined.write(pending, from, contentEnd - from);
                }
            } else if (startsWith(lineStart, contentEnd, EVENT)
                       && new String(pending, lineStart + EVENT.length, contentEnd - lineStart - EVENT.length,
                                     StandardCharsets.US_ASCII).trim().equals("error")) {
                fail();
                return;
            }
            lineStart = lineEnd + 1;
        }
        if (dataStart < 0) {
            return; // a comment or a keep-alive
        }
        byte[] data = joined != null ? joined.toByteArray() : null;
        int from = data != null ? 0 : dataStart;
        int to = data != null ? data.length : dataEnd;
        byte[] source = data != null ? data : pending;
        if (to - from == DONE.length && Arrays.equals(source, from, to, DONE, 0, DONE.length)) {
            return;
        }
        JsonNode chunk;
        try {
            chunk = READER.readTree(source, from, to - from);
        } catch (IOException e) {
            fail();
            return;
        }
        chunk(chunk, to - from);
    }

    private void chunk(JsonNode c, int size) {
        if (c == null || !c.isObject() || c.hasNonNull("error")) {
            fail();
            return;
        }
        if (id == null && c.path("id").isTextual()) {
            id = c.get("id").textValue();
        }
        if (created < 0 && c.path("created").canConvertToLong()) {
            created = c.get("created").longValue();
        }
        if (model == null && c.path("model").isTextual()) {
            model = c.get("model").textValue();
        }
        if (c.path("system_fingerprint").isTextual()) {
            systemFingerprint = c.get("system_fingerprint").textValue();
        }
        if (c.path("service_tier").isTextual()) {
            serviceTier = c.get("service_tier").textValue();
        }
        if (c.path("usage").isObject()) {
            usage = c.get("usage");
            grow(size);
        }
        JsonNode list = c.get("choices");
        if (list == null || list.isNull()) {
            return;
        }
        if (!list.isArray()) {
            fail();
            return;
        }
        for (JsonNode choice : list) {
            choice(choice, size);
            if (failed) {
                return;
            }
        }
    }

    private void choice(JsonNode ch, int size) {
        JsonNode indexNode = ch.path("index");
        int index = indexNode.isMissingNode() ? 0 : indexNode.isInt() ? indexNode.intValue() : -1;
        if (!ch.isObject() || index < 0 || index >= MAX_CHOICES) {
            fail();
            return;
        }
        while (choices.size() <= index) {
            choices.add(null);
        }
        Choice choice = choices.get(index);
        if (choice == null) {
            choice = new Choice(index);
            choices.set(index, choice);
        }
        JsonNode delta = ch.get("delta");
        if (delta != null && !delta.isNull()) {
            if (!delta.isObject() || !choice.delta(delta, size)) {
                fail();
                return;
            }
        }
        JsonNode logprobs = ch.get("logprobs");
        if (logprobs != null && logprobs.isObject()) {
            choice.logprobs(logprobs);
            grow(size);
        }
        if (ch.path("finish_reason").isTextual()) {
            choice.finishReason = ch.get("finish_reason").textValue();
        }
    }

    private void grow(long bytes) {
        retained += bytes;
        if (retained > maxBytes) {
            refuseTooLarge();
        }
    }

    private void refuseTooLarge() {
        tooLarge = true;
        fail();
    }

    private void fail() {
        failed = true;
        // Drop what was held: the answer will not be stored, and the stream may go on for long.
        pending = new byte[0];
        length = 0;
        choices.clear();
        usage = null;
    }

    private boolean startsWith(int from, int to, byte[] prefix) {
        return to - from >= prefix.length && Arrays.equals(pending, from, from + prefix.length, prefix, 0,
                                                            prefix.length);
    }

    private byte[] write(UsageScanner fallbackUsage) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(maxBytes, retained + 512));
        try (JsonGenerator gen = WRITER.getFactory().createGenerator(out)) {
            gen.setCodec(WRITER);
            gen.writeStartObject();
            gen.writeStringField("id", id);
            gen.writeStringField("object", "chat.completion");
            gen.writeNumberField("created", Math.max(0, created));
            gen.writeStringField("model", model);
            gen.writeArrayFieldStart("choices");
            for (Choice c : choices) {
                c.write(gen);
            }
            gen.writeEndArray();
            if (usage != null) {
                gen.writeFieldName("usage");
                gen.writeTree(usage);
            } else if (fallbackUsage != null && fallbackUsage.found()) {
                gen.writeObjectFieldStart("usage");
                gen.writeNumberField("prompt_tokens", Math.max(0, fallbackUsage.promptTokens()));
                gen.writeNumberField("completion_tokens", Math.max(0, fallbackUsage.completionTokens()));
                gen.writeNumberField("total_tokens", fallbackUsage.totalTokens());
                gen.writeEndObject();
            }
            if (systemFingerprint != null) {
                gen.writeStringField("system_fingerprint", systemFingerprint);
            }
            if (serviceTier != null) {
                gen.writeStringField("service_tier", serviceTier);
            }
            gen.writeEndObject();
        }
        return out.toByteArray();
    }

    /** One choice being assembled. */
    private final class Choice {
        final int index;
        String role;
        StringBuilder content;
        StringBuilder refusal;
        Map<String, StringBuilder> extras;
        List<ToolCall> toolCalls;
        ToolCall functionCall;
        ArrayNode annotations;
        ArrayNode logprobContent;
        ArrayNode logprobRefusal;
        boolean logprobs;
        String finishReason;

        Choice(int index) {
            this.index = index;
        }

        /** Merges a delta; returns false if it has a field that cannot be merged. */
        boolean delta(JsonNode delta, int size) {
            for (Iterator<Map.Entry<String, JsonNode>> it = delta.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                JsonNode v = field.getValue();
                if (v.isNull()) {
                    continue;
                }
                String name = field.getKey();
                switch (name) {
                    case "role":
                        if (!v.isTextual()) {
                            return false;
                        }
                        role = v.textValue();
                        break;
                    case "content":
                        if (!v.isTextual()) {
                            return false;
                        }
                        content = append(content, v.textValue());
                        break;
                    case "refusal":
                        if (!v.isTextual()) {
                            return false;
                        }
                        refusal = append(refusal, v.textValue());
                        break;
                    case "tool_calls":
                        if (!v.isArray() || !toolCalls(v)) {
                            return false;
                        }
                        break;
                    case "function_call":
                        if (!v.isObject()) {
                            return false;
                        }
                        if (functionCall == null) {
                            functionCall = new ToolCall();
                        }
                        if (!functionCall.function(v)) {
                            return false;
                        }
                        break;
                    case "annotations":
                        if (!v.isArray()) {
                            return false;
                        }
                        if (annotations == null) {
                            annotations = JsonNodeFactory.instance.arrayNode();
                        }
                        annotations.addAll((ArrayNode) v);
                        grow(size);
                        break;
                    default:
                        // A provider's own text field (e.g. reasoning_content) streams like content.
                        if (!v.isTextual()) {
                            return false;
                        }
                        if (extras == null) {
                            extras = new LinkedHashMap<>(2);
                        }
                        extras.put(name, append(extras.get(name), v.textValue()));
                        break;
                }
            }
            return true;
        }

        private boolean toolCalls(JsonNode list) {
            for (JsonNode tc : list) {
                if (!tc.isObject()) {
                    return false;
                }
                JsonNode indexNode = tc.path("index");
                int at = indexNode.isInt() ? indexNode.intValue() : toolCalls == null ? 0 : toolCalls.size() - 1;
                if (at < 0 || at >= MAX_TOOL_CALLS) {
                    return false;
                }
                if (toolCalls == null) {
                    toolCalls = new ArrayList<>(2);
                }
                while (toolCalls.size() <= at) {
                    toolCalls.add(null);
                }
                ToolCall call = toolCalls.get(at);
                if (call == null) {
                    call = new ToolCall();
                    toolCalls.set(at, call);
                }
                if (tc.path("id").isTextual() && !tc.get("id").textValue().isEmpty() && call.id == null) {
                    call.id = tc.get("id").textValue();
                }
                if (tc.path("type").isTextual()) {
                    call.type = tc.get("type").textValue();
                }
                JsonNode function = tc.get("function");
                if (function != null && !function.isNull() && (!function.isObject() || !call.function(function))) {
                    return false;
                }
            }
            return true;
        }

        void logprobs(JsonNode lp) {
            logprobs = true;
            if (lp.path("content").isArray()) {
                if (logprobContent == null) {
                    logprobContent = JsonNodeFactory.instance.arrayNode();
                }
                logprobContent.addAll((ArrayNode) lp.get("content"));
            }
            if (lp.path("refusal").isArray()) {
                if (logprobRefusal == null) {
                    logprobRefusal = JsonNodeFactory.instance.arrayNode();
                }
                logprobRefusal.addAll((ArrayNode) lp.get("refusal"));
            }
        }

        boolean toolCallsComplete() {
            if (toolCalls == null) {
                return true;
            }
            for (ToolCall call : toolCalls) {
                if (call == null || call.id == null || call.name == null) {
                    return false;
                }
            }
            return true;
        }

        void write(JsonGenerator gen) throws IOException {
            gen.writeStartObject();
            gen.writeNumberField("index", index);
            gen.writeObjectFieldStart("message");
            gen.writeStringField("role", role == null ? "assistant" : role);
            gen.writeStringField("content", content == null ? null : content.toString());
            gen.writeStringField("refusal", refusal == null ? null : refusal.toString());
            if (extras != null) {
                for (Map.Entry<String, StringBuilder> e : extras.entrySet()) {
                    gen.writeStringField(e.getKey(), e.getValue().toString());
                }
            }
            if (toolCalls != null) {
                gen.writeArrayFieldStart("tool_calls");
                for (ToolCall call : toolCalls) {
                    gen.writeStartObject();
                    gen.writeStringField("id", call.id);
                    gen.writeStringField("type", call.type == null ? "function" : call.type);
                    call.writeFunction(gen, "function");
                    gen.writeEndObject();
                }
                gen.writeEndArray();
            }
            if (functionCall != null) {
                functionCall.writeFunction(gen, "function_call");
            }
            if (annotations != null) {
                gen.writeFieldName("annotations");
                gen.writeTree(annotations);
            }
            gen.writeEndObject();
            if (logprobs) {
                gen.writeObjectFieldStart("logprobs");
                gen.writeFieldName("content");
                if (logprobContent == null) {
                    gen.writeNull();
                } else {
                    gen.writeTree(logprobContent);
                }
                gen.writeFieldName("refusal");
                if (logprobRefusal == null) {
                    gen.writeNull();
                } else {
                    gen.writeTree(logprobRefusal);
                }
                gen.writeEndObject();
            } else {
                gen.writeNullField("logprobs");
            }
            gen.writeStringField("finish_reason", finishReason);
            gen.writeEndObject();
        }

        private StringBuilder append(StringBuilder sb, String text) {
            grow(text.length());
            return (sb == null ? new StringBuilder(Math.max(16, text.length())) : sb).append(text);
        }
    }

    /** One tool call (or legacy function call) being assembled. */
    private final class ToolCall {
        String id;
        String type;
        String name;
        StringBuilder arguments;

        boolean function(JsonNode f) {
            JsonNode n = f.get("name");
            if (n != null && !n.isNull()) {
                if (!n.isTextual()) {
                    return false;
                }
                String text = n.textValue();
                // The name comes whole in its first chunk; some providers repeat it, a few stream it in parts.
                if (name == null) {
                    name = text;
                } else if (!name.equals(text)) {
                    name = name + text;
                }
            }
            JsonNode a = f.get("arguments");
            if (a != null && !a.isNull()) {
                if (!a.isTextual()) {
                    return false;
                }
                grow(a.textValue().length());
                arguments = (arguments == null ? new StringBuilder() : arguments).append(a.textValue());
            }
            return true;
        }

        void writeFunction(JsonGenerator gen, String field) throws IOException {
            gen.writeObjectFieldStart(field);
            gen.writeStringField("name", name);
            gen.writeStringField("arguments", arguments == null ? "" : arguments.toString());
            gen.writeEndObject();
        }
    }
}
