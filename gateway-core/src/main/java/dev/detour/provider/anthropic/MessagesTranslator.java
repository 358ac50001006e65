package dev.detour.provider.anthropic;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.api.UsageSink;
import dev.detour.provider.ByteSink;
import dev.detour.provider.ResponseTranslator;
import dev.detour.provider.StreamFailure;
import dev.detour.provider.UpstreamVerdict;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Turns one Anthropic Messages answer into OpenAI's format: a {@code message} body into a {@code chat.completion}
 * (or {@code text_completion}), and the named SSE events of a stream into chunks, one event at a time
 * ({@code providers.md} §9.2, §9.3).
 *
 * <p>Stream commitment: the server commits a stream to the client when the translator first writes bytes, and
 * until then an in-band {@code error} event still lets the router try another target. So the role chunk is
 * held back from {@code message_start} until the first event that carries part of the answer (text, a tool
 * call, the stop reason): Anthropic often reports overload right after {@code message_start}.
 *
 * <p>Usage: the answer's counts go to the request's {@link UsageSink} whether or not the client sees them (a stream
 * shows them only to a client that asked for {@code stream_options.include_usage}): for a body when it is
 * translated, for a stream at {@code message_stop}, so an attempt that fails before its end reports nothing.
 *
 * <p>One per exchange; not thread-safe.
 */
final class MessagesTranslator implements ResponseTranslator {

    /** Largest SSE line or event accepted: far above any real delta, small enough to bound memory. */
    private static final int MAX_EVENT_BYTES = 16 * 1024 * 1024;
    private static final byte[] PING = ": ping\n\n".getBytes(StandardCharsets.US_ASCII);

    /**
     * The package's JSON mapper. Its string limit matches the request sniffer's: base64 images in requests may
     * exceed Jackson's default.
     */
    static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(64 * 1024 * 1024).build())
            .build());

    private final OpenAiWriter.Shape shape;
    private final OpenAiWriter writer;
    private final Clock clock;
    private final String fallbackModel;
    private final UsageSink usageSink;
    private final SseParser parser = new SseParser(MAX_EVENT_BYTES);

    private Phase phase = Phase.AWAITING_START;
    private ByteSink out;
    private boolean started;
    private boolean finished;
    private Usage usage = Usage.NONE;
    /** Whether the stream carried a {@code usage} object at all. */
    private boolean usageSeen;
    /** OpenAI tool-call index per Anthropic block index; -1 for blocks that are not client tool calls. */
    private int[] toolIndexOfBlock = new int[0];
    /** Whether a tool block sent any argument text yet, per Anthropic block index. */
    private boolean[] argumentsSent = new boolean[0];
    private int toolCalls;

    /**
     * Creates a translator.
     *
     * @param includeUsage  whether the client's stream asked for {@code stream_options.include_usage}
     * @param clock         the source of {@code created}
     * @param fallbackModel the model reported when the answer names none: the upstream model requested
     */
    MessagesTranslator(OpenAiWriter.Shape shape, boolean includeUsage, Clock clock, String fallbackModel) {
        this(shape, includeUsage, clock, fallbackModel, UsageSink.NONE);
    }

    /**
     * Creates a translator that reports the answer's usage to {@code usageSink}.
     *
     * @param usageSink where the answer's token counts go, shown to the client or not
     */
    MessagesTranslator(OpenAiWriter.Shape shape, boolean includeUsage, Clock clock, String fallbackModel,
                       UsageSink usageSink) {
        this.shape = shape;
        this.writer = new OpenAiWriter(shape, includeUsage);
        this.clock = clock;
        this.fallbackModel = fallbackModel;
        this.usageSink = Objects.requireNonNull(usageSink, "usageSink");
    }

    @Override
    public byte[] translateBody(byte[] upstreamBody) throws TranslationException {
        JsonNode message = parse(upstreamBody, 0, upstreamBody.length, "the message");
        JsonNode content = message.get("content");
        if (content == null || !content.isArray()) {
            throw new TranslationException("a message without a content array");
        }
        writer.head(message.path("id").asText(""), model(message), clock.instant().getEpochSecond());
        StringBuilder text = null;
        List<OpenAiWriter.ToolCall> calls = new ArrayList<>(2);
        for (JsonNode block : content) {
            String type = block.path("type").asText("");
            if ("text".equals(type)) {
                text = text == null ? new StringBuilder() : text;
                text.append(block.path("text").asText(""));
            } else if ("tool_use".equals(type) && shape == OpenAiWriter.Shape.CHAT) {
                calls.add(new OpenAiWriter.ToolCall(block.path("id").asText(""), block.path("name").asText(""),
                                                    compact(block.get("input"))));
            }
            // thinking, redacted_thinking and server-tool blocks have no place in OpenAI's message.
        }
        String joined = text != null ? text.toString() : calls.isEmpty() ? "" : null;
        JsonNode usageNode = message.get("usage");
        Usage counts = Usage.of(usageNode);
        byte[] translated = writer.completion(joined, calls, finishReason(message.path("stop_reason").asText(null)),
                                              counts);
        if (usageNode != null && usageNode.isObject()) {
            report(counts);
        }
        return translated;
    }

    @Override
    public void translateStream(ByteBuffer upstreamBytes, ByteSink sink) throws StreamFailure, TranslationException {
        out = sink;
        try {
            parser.feed(upstreamBytes, this::onEvent);
        } finally {
            out = null;
        }
    }

    @Override
    public void endStream(ByteSink sink) throws StreamFailure {
        if (phase != Phase.STOPPED) {
            throw new StreamFailure(UpstreamVerdict.of(UpstreamVerdict.Kind.SERVER_ERROR, "stream_truncated"),
                                    "The provider's stream ended before message_stop: the answer is incomplete. "
                                    + "Retry the request.");
        }
    }

    /** Returns OpenAI's {@code finish_reason} for an Anthropic {@code stop_reason} (§9.2; unknown means stop). */
    static String finishReason(String stopReason) {
        if (stopReason == null) {
            return "stop";
        }
        switch (stopReason) {
            case "max_tokens":
            case "model_context_window_exceeded":
                return "length";
            case "tool_use":
                return "tool_calls";
            case "refusal":
                return "content_filter";
            default:
                return "stop"; // end_turn, stop_sequence, pause_turn and values added later
        }
    }

    private void onEvent(String event, byte[] data, int length) throws StreamFailure, TranslationException {
        if (phase == Phase.STOPPED || length == 0) {
            return;
        }
        JsonNode node = parse(data, 0, length, "event " + event);
        String type = node.path("type").asText(event);
        switch (type) {
            case "message_start":
                onMessageStart(node.path("message"));
                break;
            case "content_block_start":
                requireStarted(type);
                onBlockStart(node.path("index").asInt(-1), node.path("content_block"));
                break;
            case "content_block_delta":
                requireStarted(type);
                onBlockDelta(node.path("index").asInt(-1), node.path("delta"));
                break;
            case "content_block_stop":
                requireStarted(type);
                onBlockStop(node.path("index").asInt(-1));
                break;
            case "message_delta":
                requireStarted(type);
                updateUsage(node.get("usage"));
                start();
                if (!finished) { // OpenAI clients expect exactly one finish_reason
                    writer.finishChunk(finishReason(node.path("delta").path("stop_reason").asText(null)), out);
                    finished = true;
                }
                break;
            case "message_stop":
                requireStarted(type);
                start();
                if (!finished) {
                    writer.finishChunk("stop", out);
                    finished = true;
                }
                if (usageSeen) {
                    report(usage);
                }
                writer.end(usage, out);
                phase = Phase.STOPPED;
                break;
            case "ping":
                if (started) {
                    out.write(PING); // keeps idle proxies between Detour and the client from closing the stream
                }
                break;
            case "error":
                throw failure(node.path("error"));
            default:
                break; // new event types may be added; ignore them (§4.3)
        }
    }

    private void onMessageStart(JsonNode message) {
        writer.head(message.path("id").asText(""), model(message), clock.instant().getEpochSecond());
        updateUsage(message.get("usage"));
        phase = Phase.STREAMING;
    }

    private void onBlockStart(int index, JsonNode block) throws TranslationException {
        String type = block.path("type").asText("");
        if ("text".equals(type)) {
            String text = block.path("text").asText("");
            if (!text.isEmpty()) {
                start();
                writer.textChunk(text, out);
            }
            return;
        }
        if (!"tool_use".equals(type) || shape != OpenAiWriter.Shape.CHAT) {
            return; // thinking and server-side tool blocks are not shown to an OpenAI client
        }
        if (index < 0) {
            throw new TranslationException("content_block_start without an index");
        }
        int k = toolCalls++;
        growTo(index);
        toolIndexOfBlock[index] = k;
        start();
        writer.toolCallStart(k, block.path("id").asText(""), block.path("name").asText(""), out);
        JsonNode input = block.get("input");
        if (input != null && input.isObject() && !input.isEmpty()) {
            writer.toolCallArguments(k, compact(input), out);
            argumentsSent[index] = true;
        }
    }

    private void onBlockDelta(int index, JsonNode delta) {
        String type = delta.path("type").asText("");
        if ("text_delta".equals(type)) {
            start();
            writer.textChunk(delta.path("text").asText(""), out);
            return;
        }
        if (!"input_json_delta".equals(type)) {
            return; // thinking_delta, signature_delta, citations_delta
        }
        int k = toolIndex(index);
        String partial = delta.path("partial_json").asText("");
        if (k < 0 || partial.isEmpty()) {
            return;
        }
        writer.toolCallArguments(k, partial, out);
        argumentsSent[index] = true;
    }

    private void onBlockStop(int index) {
        int k = toolIndex(index);
        if (k >= 0 && !argumentsSent[index]) {
            // A tool without parameters streams no JSON at all; OpenAI clients parse the arguments, so send {}.
            writer.toolCallArguments(k, "{}", out);
            argumentsSent[index] = true;
        }
    }

    private void updateUsage(JsonNode node) {
        if (node != null && node.isObject()) {
            usage = usage.updatedBy(node);
            usageSeen = true;
        }
    }

    private void report(Usage counts) {
        usageSink.record(counts.prompt(), counts.output(), counts.total(), counts.cacheRead());
    }

    private void requireStarted(String type) throws TranslationException {
        if (phase == Phase.AWAITING_START) {
            throw new TranslationException(type + " before message_start");
        }
    }

    /** Writes the role chunk before the first piece of the answer. */
    private void start() {
        if (started) {
            return;
        }
        started = true;
        if (shape == OpenAiWriter.Shape.CHAT) {
            writer.roleChunk(out);
        }
    }

    private int toolIndex(int blockIndex) {
        return blockIndex >= 0 && blockIndex < toolIndexOfBlock.length ? toolIndexOfBlock[blockIndex] : -1;
    }

    private void growTo(int index) {
        if (index < toolIndexOfBlock.length) {
            return;
        }
        int size = Math.max(index + 1, toolIndexOfBlock.length * 2);
        int old = toolIndexOfBlock.length;
        toolIndexOfBlock = Arrays.copyOf(toolIndexOfBlock, size);
        Arrays.fill(toolIndexOfBlock, old, size, -1);
        argumentsSent = Arrays.copyOf(argumentsSent, size);
    }

    /**
     * Returns the model name the client sees: the one it asked for (providers.md section 9.2), as every
     * translating adapter does; the upstream model is in the {@code x-detour-model} header.
     */
    private String model(JsonNode message) {
        return fallbackModel;
    }

    private static StreamFailure failure(JsonNode error) {
        String type = error.path("type").asText("api_error");
        String message = error.path("message").asText("");
        UpstreamVerdict verdict = UpstreamVerdict.of(AnthropicAdapter.kindOfErrorType(type), type);
        return new StreamFailure(verdict, "The provider reported an error mid-stream (" + type + ")"
                                          + (message.isEmpty() ? "." : ": " + message));
    }

    private static JsonNode parse(byte[] bytes, int offset, int length, String what) throws TranslationException {
        JsonNode node;
        try {
            node = JSON.readTree(bytes, offset, length);
        } catch (IOException e) {
            throw new TranslationException(what + " is not valid JSON");
        }
        if (node == null || !node.isObject()) {
            throw new TranslationException(what + " is not a JSON object");
        }
        return node;
    }

    private static String compact(JsonNode input) {
        if (input == null || input.isNull() || input.isMissingNode()) {
            return "{}";
        }
        return input.toString(); // Jackson's toString is compact, valid JSON
    }

    private enum Phase { AWAITING_START, STREAMING, STOPPED }
}
