package dev.detour.provider.bedrock;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.api.UsageSink;
import dev.detour.provider.ByteSink;
import dev.detour.provider.ResponseTranslator;
import dev.detour.provider.StreamFailure;
import dev.detour.provider.UpstreamVerdict;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Turns a Converse answer into OpenAI's {@code chat.completion}, and a ConverseStream answer (the binary AWS event
 * stream) into {@code chat.completion.chunk} events, one Bedrock event at a time.
 *
 * <p>Stream mapping: the role chunk is written just before the first chunk with content (so that an exception
 * frame arriving right after {@code messageStart} still lets the router try another target); {@code text} deltas
 * become {@code delta.content}; a {@code toolUse} block start becomes a tool call with its {@code index}, {@code id}
 * and {@code name}, and its {@code input} deltas argument pieces; {@code messageStop} becomes the finish chunk;
 * {@code metadata} usage becomes the usage chunk (only when the client asked for it), written at the end with
 * {@code [DONE]}. Exception frames throw a classified {@link StreamFailure}; a stream ending before
 * {@code messageStop} is a failure too.
 *
 * <p>Usage goes to the request's {@link UsageSink} whether or not the client sees it: for a body when it is
 * translated, for a stream when it ends complete.
 *
 * <p>One per exchange; not thread-safe.
 */
final class ConverseTranslator implements ResponseTranslator {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonFactory FACTORY = JSON.getFactory();
    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END_OF_EVENT = "\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);

    private final String id;
    private final long created;
    private final String model;
    private final boolean includeUsage;
    private final UsageSink usageSink;
    private final ChunkBuffer buffer = new ChunkBuffer(256);
    /** Converse content block index to OpenAI tool-call index: text blocks take no tool-call index. */
    private final Map<Integer, Integer> toolIndexByBlock = new HashMap<>(4);

    // Stream state.
    private EventStreamDecoder decoder;
    private boolean roleSent;
    private boolean stopped;
    private Usage usage;

    /**
     * Creates a translator.
     *
     * @param id           the {@code id} of the completion ({@code chatcmpl-...}); Converse gives none
     * @param created      the {@code created} epoch second
     * @param model        the model name the client asked for
     * @param includeUsage whether the client asked for the usage chunk
     */
    ConverseTranslator(String id, long created, String model, boolean includeUsage) {
        this(id, created, model, includeUsage, UsageSink.NONE);
    }

    /**
     * Creates a translator that reports the answer's usage to {@code usageSink}.
     *
     * @param usageSink where the answer's token counts go, shown to the client or not
     */
    ConverseTranslator(String id, long created, String model, boolean includeUsage, UsageSink usageSink) {
        this.usageSink = Objects.requireNonNull(usageSink, "usageSink");
        this.id = Objects.requireNonNull(id, "id");
        this.created = created;
        this.model = Objects.requireNonNull(model, "model");
        this.includeUsage = includeUsage;
    }

    @Override
    public byte[] translateBody(byte[] upstreamBody) throws TranslationException {
        JsonNode root = read(upstreamBody, "Converse answer");
        JsonNode content = root.path("output").path("message").path("content");
        if (!content.isArray()) {
            throw new TranslationException("Converse answer without output.message.content");
        }
        StringBuilder text = new StringBuilder();
        boolean anyText = false;
        boolean anyTool = false;
        for (JsonNode block : content) {
            if (block.has("text")) {
                text.append(block.get("text").asText());
                anyText = true;
            } else if (block.has("toolUse")) {
                anyTool = true;
            }
        }
        try (JsonGenerator g = FACTORY.createGenerator(buffer)) {
            g.writeStartObject();
            g.writeStringField("id", id);
            g.writeStringField("object", "chat.completion");
            g.writeNumberField("created", created);
            g.writeStringField("model", model);
            g.writeArrayFieldStart("choices");
            g.writeStartObject();
            g.writeNumberField("index", 0);
            g.writeObjectFieldStart("message");
            g.writeStringField("role", "assistant");
            // OpenAI sends null content for a pure tool call, an empty string for an empty answer.
            g.writeStringField("content", !anyText && anyTool ? null : text.toString());
            g.writeNullField("refusal");
            if (anyTool) {
                g.writeArrayFieldStart("tool_calls");
                for (JsonNode block : content) {
                    JsonNode toolUse = block.get("toolUse");
                    if (toolUse == null) {
                        continue;
                    }
                    g.writeStartObject();
                    g.writeStringField("id", toolUse.path("toolUseId").asText());
                    g.writeStringField("type", "function");
                    g.writeObjectFieldStart("function");
                    g.writeStringField("name", toolUse.path("name").asText());
                    JsonNode input = toolUse.get("input");
                    String arguments = input == null || input.isNull() ? "{}" : JSON.writeValueAsString(input);
                    g.writeStringField("arguments", arguments);
                    g.writeEndObject();
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            g.writeEndObject();
            g.writeNullField("logprobs");
            g.writeStringField("finish_reason", finishReason(root.path("stopReason").asText(null)));
            g.writeEndObject();
            g.writeEndArray();
            JsonNode u = root.get("usage");
            if (u != null && u.isObject()) {
                Usage counts = Usage.of(u);
                writeUsage(g, counts);
                counts.reportTo(usageSink);
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] out = buffer.toByteArray();
        buffer.reset();
        return out;
    }

    @Override
    public void translateStream(ByteBuffer upstreamBytes, ByteSink out) throws StreamFailure, TranslationException {
        if (decoder == null) {
            decoder = new EventStreamDecoder();
        }
        decoder.append(upstreamBytes);
        EventStreamMessage message;
        while ((message = decoder.next()) != null) {
            onMessage(message, out);
        }
    }

    @Override
    public void endStream(ByteSink out) throws StreamFailure {
        if (decoder != null && decoder.hasPartialMessage()) {
            throw new StreamFailure(UpstreamVerdict.of(UpstreamVerdict.Kind.SERVER_ERROR, "stream_truncated"),
                                    "The provider's stream broke off inside an event; the answer is incomplete.");
        }
        if (!stopped) {
            throw new StreamFailure(UpstreamVerdict.of(UpstreamVerdict.Kind.SERVER_ERROR, "stream_incomplete"),
                                    "The provider's stream ended before its messageStop event; the answer is "
                                    + "incomplete.");
        }
        if (usage != null) {
            usage.reportTo(usageSink);
        }
        if (includeUsage && usage != null) {
            try (JsonGenerator g = startEvent()) {
                g.writeStartObject();
                writeHead(g);
                g.writeArrayFieldStart("choices");
                g.writeEndArray();
                writeUsage(g, usage);
                g.writeEndObject();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            endEvent(out);
        }
        out.write(DONE);
    }

    private void onMessage(EventStreamMessage message, ByteSink out) throws StreamFailure, TranslationException {
        String messageType = message.header(":message-type");
        if ("exception".equals(messageType)) {
            throw BedrockErrors.streamFailure(message.header(":exception-type"), message.payload());
        }
        if ("error".equals(messageType)) {
            String code = message.header(":error-code");
            throw new StreamFailure(UpstreamVerdict.of(UpstreamVerdict.Kind.SERVER_ERROR,
                                                       code == null ? "stream_error" : code),
                                    "Bedrock reported an error during the stream: "
                                    + Objects.requireNonNullElse(message.header(":error-message"), "no message"));
        }
        if (!"event".equals(messageType)) {
            throw new TranslationException("event stream message of type " + messageType);
        }
        String eventType = message.header(":event-type");
        if (eventType == null) {
            throw new TranslationException("event stream message without :event-type");
        }
        switch (eventType) {
            case "contentBlockStart":
                onBlockStart(read(message.payload(), eventType), out);
                break;
            case "contentBlockDelta":
                onBlockDelta(read(message.payload(), eventType), out);
                break;
            case "messageStop":
                onMessageStop(read(message.payload(), eventType), out);
                break;
            case "metadata":
                JsonNode u = read(message.payload(), eventType).get("usage");
                if (u != null && u.isObject()) {
                    usage = Usage.of(u);
                }
                break;
            default:
                break; // messageStart (role is written with the first content), contentBlockStop, newer events
        }
    }

    private void onBlockStart(JsonNode event, ByteSink out) {
        JsonNode toolUse = event.path("start").get("toolUse");
        if (toolUse == null) {
            return;
        }
        int toolIndex = toolIndexByBlock.size();
        toolIndexByBlock.put(event.path("contentBlockIndex").asInt(), toolIndex);
        writeRole(out);
        try (JsonGenerator g = startChunk()) {
            g.writeArrayFieldStart("tool_calls");
            g.writeStartObject();
            g.writeNumberField("index", toolIndex);
            g.writeStringField("id", toolUse.path("toolUseId").asText());
            g.writeStringField("type", "function");
            g.writeObjectFieldStart("function");
            g.writeStringField("name", toolUse.path("name").asText());
            g.writeStringField("arguments", "");
            g.writeEndObject();
            g.writeEndObject();
            g.writeEndArray();
            endChunk(g, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        endEvent(out);
    }

    private void onBlockDelta(JsonNode event, ByteSink out) throws TranslationException {
        JsonNode delta = event.path("delta");
        JsonNode text = delta.get("text");
        if (text != null) {
            if (text.asText().isEmpty()) {
                return;
            }
            writeRole(out);
            try (JsonGenerator g = startChunk()) {
                g.writeStringField("content", text.asText());
                endChunk(g, null);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            endEvent(out);
            return;
        }
        JsonNode toolUse = delta.get("toolUse");
        if (toolUse == null) {
            return; // reasoningContent and newer delta kinds have no OpenAI counterpart
        }
        Integer toolIndex = toolIndexByBlock.get(event.path("contentBlockIndex").asInt());
        if (toolIndex == null) {
            throw new TranslationException("toolUse delta for content block " + event.path("contentBlockIndex")
                                           + " without its contentBlockStart");
        }
        String piece = toolUse.path("input").asText("");
        if (piece.isEmpty()) {
            return;
        }
        try (JsonGenerator g = startChunk()) {
            g.writeArrayFieldStart("tool_calls");
            g.writeStartObject();
            g.writeNumberField("index", toolIndex);
            g.writeObjectFieldStart("function");
            g.writeStringField("arguments", piece);
            g.writeEndObject();
            g.writeEndObject();
            g.writeEndArray();
            endChunk(g, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        endEvent(out);
    }

    private void onMessageStop(JsonNode event, ByteSink out) {
        if (stopped) {
            return;
        }
        stopped = true;
        writeRole(out);
        try (JsonGenerator g = startChunk()) {
            endChunk(g, finishReason(event.path("stopReason").asText(null)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        endEvent(out);
    }

    private void writeRole(ByteSink out) {
        if (roleSent) {
            return;
        }
        roleSent = true;
        try (JsonGenerator g = startChunk()) {
            g.writeStringField("role", "assistant");
            g.writeStringField("content", "");
            endChunk(g, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        endEvent(out);
    }

    /** Starts {@code data: } and a chunk up to the opening of its {@code delta} object. */
    private JsonGenerator startChunk() throws IOException {
        JsonGenerator g = startEvent();
        g.writeStartObject();
        writeHead(g);
        g.writeArrayFieldStart("choices");
        g.writeStartObject();
        g.writeNumberField("index", 0);
        g.writeObjectFieldStart("delta");
        return g;
    }

    /** Closes the {@code delta} object and the chunk. */
    private void endChunk(JsonGenerator g, String finishReason) throws IOException {
        g.writeEndObject();
        g.writeStringField("finish_reason", finishReason);
        g.writeEndObject();
        g.writeEndArray();
        if (includeUsage) {
            g.writeNullField("usage"); // as OpenAI does when the usage chunk is coming
        }
        g.writeEndObject();
    }

    private JsonGenerator startEvent() throws IOException {
        buffer.write(DATA);
        JsonGenerator g = FACTORY.createGenerator(buffer);
        g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
        return g;
    }

    private void endEvent(ByteSink out) {
        buffer.write(END_OF_EVENT, 0, END_OF_EVENT.length);
        buffer.drainTo(out);
    }

    private void writeHead(JsonGenerator g) throws IOException {
        g.writeStringField("id", id);
        g.writeStringField("object", "chat.completion.chunk");
        g.writeNumberField("created", created);
        g.writeStringField("model", model);
    }

    private static void writeUsage(JsonGenerator g, Usage u) throws IOException {
        g.writeObjectFieldStart("usage");
        g.writeNumberField("prompt_tokens", u.prompt());
        g.writeNumberField("completion_tokens", u.completion());
        g.writeNumberField("total_tokens", u.total());
        if (u.cached() > 0) {
            g.writeObjectFieldStart("prompt_tokens_details");
            g.writeNumberField("cached_tokens", u.cached());
            g.writeEndObject();
        }
        g.writeEndObject();
    }

    /** Maps a Converse {@code stopReason} to OpenAI's {@code finish_reason}. */
    static String finishReason(String stopReason) {
        if (stopReason == null) {
            return "stop";
        }
        switch (stopReason) {
            case "tool_use":
                return "tool_calls";
            case "max_tokens":
            case "model_context_window_exceeded":
                return "length";
            case "guardrail_intervened":
            case "content_filtered":
                return "content_filter";
            default:
                return "stop"; // end_turn, stop_sequence, and reasons newer than this adapter
        }
    }

    private static JsonNode read(byte[] json, String what) throws TranslationException {
        try {
            JsonNode node = JSON.readTree(json);
            if (node == null || !node.isObject()) {
                throw new TranslationException(what + " is not a JSON object");
            }
            return node;
        } catch (IOException e) {
            throw new TranslationException(what + " is not valid JSON");
        }
    }

    /**
     * Token counts of a Converse {@code usage} object. Cache reads and writes are input tokens too, as in OpenAI's
     * {@code prompt_tokens}; reads are also reported as {@code cached_tokens}.
     */
    record Usage(long prompt, long completion, long total, long cached) {

        static Usage of(JsonNode u) {
            long input = u.path("inputTokens").asLong(0);
            long output = u.path("outputTokens").asLong(0);
            long cacheRead = u.path("cacheReadInputTokens").asLong(0);
            long cacheWrite = u.path("cacheWriteInputTokens").asLong(0);
            long prompt = input + cacheRead + cacheWrite;
            long total = u.has("totalTokens") && cacheRead == 0 && cacheWrite == 0
                    ? u.path("totalTokens").asLong() : prompt + output;
            return new Usage(prompt, output, total, cacheRead);
        }

        void reportTo(UsageSink sink) {
            sink.record(prompt, completion, total, cached);
        }
    }
}
