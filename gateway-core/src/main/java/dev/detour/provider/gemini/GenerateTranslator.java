package dev.detour.provider.gemini;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.api.UsageSink;
import dev.detour.filter.Headers;
import dev.detour.provider.ByteSink;
import dev.detour.provider.ResponseTranslator;
import dev.detour.provider.StreamFailure;
import dev.detour.provider.UpstreamVerdict;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Turns {@code generateContent} answers and {@code streamGenerateContent?alt=sse} streams into
 * {@code chat.completion} / {@code chat.completion.chunk} objects, or {@code text_completion} ones for legacy
 * completions ({@code providers.md} §5.2, §5.3, §9.4, §9.5).
 *
 * <p>Only the first candidate is read: the adapter refuses {@code n > 1}, so Gemini returns one. Text parts are
 * joined (thought parts skipped); each {@code functionCall} part becomes a tool call with Gemini's id, or else
 * {@code call_<response id>_<n>}, unique across a conversation as OpenAI's ids are, and the same wherever the
 * answer is translated. Any function call makes the finish reason {@code tool_calls}.
 *
 * <p>Streams: every SSE event becomes at most one chunk (the first carrying the role); function calls arrive whole
 * and become one tool-call delta each with complete arguments. Gemini sends no end marker and may repeat
 * {@code finishReason} and {@code usageMetadata} on its last events, so the finish chunk, the usage chunk (only
 * when the client asked with {@code stream_options.include_usage}) and {@code [DONE]} are written when the
 * upstream closes, from what the stream said; a stream that closes without any {@code finishReason} was cut off.
 *
 * <p>Usage: the counts of {@code usageMetadata} go to the request's {@link UsageSink} whether or not the client
 * sees them: for a body when it is translated, for a stream when it ends complete.
 *
 * <p>One per exchange; not thread-safe.
 */
final class GenerateTranslator implements ResponseTranslator {

    /** Which OpenAI object family the client expects. */
    enum Mode { CHAT, TEXT }

    static final JsonFactory FACTORY = new JsonFactory();

    private static final ObjectMapper JSON = new ObjectMapper(FACTORY);
    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);

    private final Mode mode;
    private final String model;
    private final String requestId;
    private final long created;
    private final boolean includeUsage;
    private final Clock clock;
    private final UsageSink usageSink;

    // Stream state.
    private final SseDecoder decoder = new SseDecoder();
    private final List<byte[]> events = new ArrayList<>(4);
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(512);
    private String id;
    private String callToken;
    private boolean roleSent;
    private int calls;
    private String finishReason;
    private boolean blocked;
    private JsonNode usage;

    /**
     * Creates a translator.
     *
     * @param model        the model name the client asked for, shown in every object
     * @param requestId    the request id, for object ids when Gemini's answer has no {@code responseId}
     * @param created      the {@code created} time, epoch seconds
     * @param includeUsage whether the client asked for a usage chunk at the end of a stream
     * @param clock        the clock for reset hints of errors reported inside a stream
     */
    GenerateTranslator(Mode mode, String model, String requestId, long created, boolean includeUsage, Clock clock) {
        this(mode, model, requestId, created, includeUsage, clock, UsageSink.NONE);
    }

    /**
     * Creates a translator that reports the answer's usage to {@code usageSink}.
     *
     * @param usageSink where the answer's token counts go, shown to the client or not
     */
    GenerateTranslator(Mode mode, String model, String requestId, long created, boolean includeUsage, Clock clock,
                       UsageSink usageSink) {
        this.usageSink = Objects.requireNonNull(usageSink, "usageSink");
        this.mode = mode;
        this.model = model;
        this.requestId = requestId;
        this.created = created;
        this.includeUsage = includeUsage;
        this.clock = clock;
    }

    @Override
    public byte[] translateBody(byte[] upstreamBody) throws TranslationException {
        JsonNode root = parse(upstreamBody, 0, upstreamBody.length);
        start(root);
        JsonNode candidate = root.path("candidates").path(0);
        String finish;
        StringBuilder text = new StringBuilder();
        List<JsonNode> functionCalls = new ArrayList<>(2);
        if (candidate.isObject()) {
            collect(candidate, text, functionCalls);
            finish = finishReason(GenerateRequests.text(candidate, "finishReason"), !functionCalls.isEmpty());
        } else if (root.path("promptFeedback").hasNonNull("blockReason")) {
            finish = "content_filter"; // the prompt was blocked: an empty answer, as §9.4 maps it
        } else {
            throw new TranslationException("generateContent answer has neither candidates nor a promptFeedback "
                                           + "blockReason");
        }
        JsonNode metadata = root.get("usageMetadata");
        buffer.reset();
        try (JsonGenerator gen = FACTORY.createGenerator(buffer)) {
            gen.writeStartObject();
            head(gen, mode == Mode.CHAT ? "chat.completion" : "text_completion");
            gen.writeArrayFieldStart("choices");
            gen.writeStartObject();
            if (mode == Mode.CHAT) {
                gen.writeNumberField("index", 0);
                gen.writeObjectFieldStart("message");
                gen.writeStringField("role", "assistant");
                gen.writeStringField("content", text.length() > 0 || functionCalls.isEmpty() ? text.toString() : null);
                gen.writeNullField("refusal");
                if (!functionCalls.isEmpty()) {
                    gen.writeArrayFieldStart("tool_calls");
                    for (JsonNode part : functionCalls) {
                        writeCall(gen, part, false);
                    }
                    gen.writeEndArray();
                }
                gen.writeEndObject();
            } else {
                gen.writeStringField("text", text.toString());
                gen.writeNumberField("index", 0);
            }
            gen.writeNullField("logprobs");
            gen.writeStringField("finish_reason", finish);
            gen.writeEndObject();
            gen.writeEndArray();
            if (metadata != null && metadata.isObject()) {
                writeUsage(gen, metadata);
            }
            gen.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (metadata != null && metadata.isObject()) {
            report(usageSink, metadata);
        }
        return buffer.toByteArray();
    }

    @Override
    public void translateStream(ByteBuffer upstreamBytes, ByteSink out) throws StreamFailure, TranslationException {
        decoder.feed(upstreamBytes, events);
        try {
            for (byte[] data : events) {
                onEvent(data, out);
            }
        } finally {
            events.clear();
        }
    }

    @Override
    public void endStream(ByteSink out) throws StreamFailure {
        if (finishReason == null && !blocked) {
            throw new StreamFailure(UpstreamVerdict.of(UpstreamVerdict.Kind.SERVER_ERROR, "stream_truncated"),
                                    "The provider's stream ended before its last chunk (no finishReason); the "
                                    + "answer is incomplete.");
        }
        String finish = finishReason == null ? "content_filter" : finishReason(finishReason, calls > 0);
        if (id == null) {
            id = idPrefix() + requestId;
        }
        writeEvent(out, gen -> {
            if (mode == Mode.CHAT) {
                chatChunk(gen, null, List.of(), finish);
            } else {
                textChunk(gen, "", finish);
            }
        });
        if (usage != null) {
            report(usageSink, usage);
        }
        if (includeUsage) {
            writeEvent(out, gen -> {
                gen.writeStartObject();
                head(gen, chunkObject());
                gen.writeArrayFieldStart("choices");
                gen.writeEndArray();
                writeUsage(gen, usage == null ? JSON.createObjectNode() : usage);
                gen.writeEndObject();
            });
        }
        out.write(DONE);
    }

    private void onEvent(byte[] data, ByteSink out) throws StreamFailure, TranslationException {
        if (data.length == 6 && new String(data, StandardCharsets.US_ASCII).equals("[DONE]")) {
            return; // not Gemini's convention, but harmless from a proxy that adds it
        }
        JsonNode root = parse(data, 0, data.length);
        JsonNode error = root.get("error");
        if (error != null && error.isObject()) {
            int status = error.path("code").asInt(500);
            UpstreamVerdict verdict = GeminiErrors.classifyError(status, error, Headers.empty(), clock.instant());
            throw new StreamFailure(verdict, GeminiErrors.streamMessage(error));
        }
        if (id == null) {
            start(root);
        }
        JsonNode metadata = root.get("usageMetadata");
        if (metadata != null && metadata.isObject()) {
            usage = metadata; // may come on several events: the last one counts
        }
        JsonNode candidate = root.path("candidates").path(0);
        if (!candidate.isObject()) {
            blocked |= root.path("promptFeedback").hasNonNull("blockReason");
            return;
        }
        String reason = GenerateRequests.text(candidate, "finishReason");
        if (reason != null) {
            finishReason = reason;
        }
        StringBuilder text = new StringBuilder();
        List<JsonNode> functionCalls = new ArrayList<>(1);
        collect(candidate, text, functionCalls);
        if (mode == Mode.TEXT) {
            if (text.length() > 0) {
                writeEvent(out, gen -> textChunk(gen, text.toString(), null));
            }
            return;
        }
        if (text.length() > 0 || !functionCalls.isEmpty()) {
            writeEvent(out, gen -> chatChunk(gen, text.length() > 0 ? text.toString() : null, functionCalls, null));
        }
    }

    /** Fixes the object id and the tool-call id token from the first answer or event. */
    private void start(JsonNode root) {
        String responseId = GenerateRequests.text(root, "responseId");
        String token = responseId == null || responseId.isEmpty() ? requestId : responseId;
        id = idPrefix() + token;
        callToken = safeToken(token);
    }

    /** Writes one chat chunk; the first chunk of a stream also names the role. */
    private void chatChunk(JsonGenerator gen, String content, List<JsonNode> functionCalls, String finish)
            throws IOException {
        gen.writeStartObject();
        head(gen, chunkObject());
        gen.writeArrayFieldStart("choices");
        gen.writeStartObject();
        gen.writeNumberField("index", 0);
        gen.writeObjectFieldStart("delta");
        if (!roleSent) {
            roleSent = true;
            gen.writeStringField("role", "assistant");
            gen.writeStringField("content", content == null && functionCalls.isEmpty() ? "" : content);
        } else if (content != null) {
            gen.writeStringField("content", content);
        }
        if (!functionCalls.isEmpty()) {
            gen.writeArrayFieldStart("tool_calls");
            for (JsonNode part : functionCalls) {
                writeCall(gen, part, true);
            }
            gen.writeEndArray();
        }
        gen.writeEndObject();
        gen.writeNullField("logprobs");
        gen.writeStringField("finish_reason", finish);
        gen.writeEndObject();
        gen.writeEndArray();
        if (includeUsage) {
            gen.writeNullField("usage"); // as OpenAI: every chunk but the usage chunk says null
        }
        gen.writeEndObject();
    }

    private void textChunk(JsonGenerator gen, String text, String finish) throws IOException {
        gen.writeStartObject();
        head(gen, chunkObject());
        gen.writeArrayFieldStart("choices");
        gen.writeStartObject();
        gen.writeStringField("text", text);
        gen.writeNumberField("index", 0);
        gen.writeNullField("logprobs");
        gen.writeStringField("finish_reason", finish);
        gen.writeEndObject();
        gen.writeEndArray();
        if (includeUsage) {
            gen.writeNullField("usage");
        }
        gen.writeEndObject();
    }

    /**
     * Writes one tool call; advances the call counter, which numbers generated ids and, in streams, the
     * {@code index} of each call.
     *
     * @param indexed whether to write the call's {@code index}, as stream deltas need
     */
    private void writeCall(JsonGenerator gen, JsonNode part, boolean indexed) throws IOException {
        JsonNode call = part.get("functionCall");
        int n = calls++;
        gen.writeStartObject();
        if (indexed) {
            gen.writeNumberField("index", n);
        }
        String callId = GenerateRequests.text(call, "id");
        gen.writeStringField("id", callId == null || callId.isEmpty() ? "call_" + callToken + "_" + n : callId);
        gen.writeStringField("type", "function");
        gen.writeObjectFieldStart("function");
        gen.writeStringField("name", call.path("name").asText());
        JsonNode args = call.get("args");
        gen.writeStringField("arguments", args == null || args.isNull() ? "{}" : JSON.writeValueAsString(args));
        gen.writeEndObject();
        String signature = GenerateRequests.text(part, "thoughtSignature");
        if (signature != null) {
            // Google's own OpenAI surface carries a thinking model's signature here; it must come back unchanged.
            gen.writeObjectFieldStart("extra_content");
            gen.writeObjectFieldStart("google");
            gen.writeStringField("thought_signature", signature);
            gen.writeEndObject();
            gen.writeEndObject();
        }
        gen.writeEndObject();
    }

    private void head(JsonGenerator gen, String object) throws IOException {
        gen.writeStringField("id", id);
        gen.writeStringField("object", object);
        gen.writeNumberField("created", created);
        gen.writeStringField("model", model);
    }

    private void writeEvent(ByteSink out, ChunkWriter writer) {
        buffer.reset();
        buffer.writeBytes(DATA);
        // The generator is not pretty-printing, so the JSON stays on one line as SSE data must.
        try (JsonGenerator gen = FACTORY.createGenerator(buffer)) {
            writer.write(gen);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        buffer.write('\n');
        buffer.write('\n');
        out.write(buffer.toByteArray());
    }

    private String idPrefix() {
        return mode == Mode.CHAT ? "chatcmpl-" : "cmpl-";
    }

    private String chunkObject() {
        return mode == Mode.CHAT ? "chat.completion.chunk" : "text_completion";
    }

    /** Appends the candidate's text parts (thoughts skipped) to {@code text} and collects its function calls. */
    private static void collect(JsonNode candidate, StringBuilder text, List<JsonNode> functionCalls) {
        for (JsonNode part : candidate.path("content").path("parts")) {
            if (part.path("thought").asBoolean(false)) {
                continue;
            }
            JsonNode t = part.get("text");
            if (t != null && t.isTextual()) {
                text.append(t.asText());
            }
            JsonNode call = part.get("functionCall");
            if (call != null && call.isObject()) {
                functionCalls.add(part);
            }
        }
    }

    /** Maps Gemini's {@code finishReason} (§9.4); a function call turns a natural stop into {@code tool_calls}. */
    static String finishReason(String gemini, boolean functionCalls) {
        String natural = functionCalls ? "tool_calls" : "stop";
        if (gemini == null) {
            return natural;
        }
        switch (gemini) {
            case "MAX_TOKENS":
                return "length";
            case "SAFETY":
            case "RECITATION":
            case "BLOCKLIST":
            case "PROHIBITED_CONTENT":
            case "SPII":
            case "IMAGE_SAFETY":
                return "content_filter";
            default:
                // STOP, and the reasons OpenAI has no word for (MALFORMED_FUNCTION_CALL, LANGUAGE, OTHER, ...).
                return natural;
        }
    }

    /**
     * Writes {@code usage} from {@code usageMetadata} (§9.5): tool-use prompt tokens count as prompt, thoughts as
     * completion (and as reasoning tokens); the total is Gemini's own.
     */
    static void writeUsage(JsonGenerator gen, JsonNode metadata) throws IOException {
        long prompt = prompt(metadata);
        long thoughts = metadata.path("thoughtsTokenCount").asLong(0);
        long completion = completion(metadata);
        gen.writeObjectFieldStart("usage");
        gen.writeNumberField("prompt_tokens", prompt);
        gen.writeNumberField("completion_tokens", completion);
        gen.writeNumberField("total_tokens", metadata.path("totalTokenCount").asLong(prompt + completion));
        gen.writeObjectFieldStart("prompt_tokens_details");
        gen.writeNumberField("cached_tokens", metadata.path("cachedContentTokenCount").asLong(0));
        gen.writeEndObject();
        gen.writeObjectFieldStart("completion_tokens_details");
        gen.writeNumberField("reasoning_tokens", thoughts);
        gen.writeEndObject();
        gen.writeEndObject();
    }

    /**
     * Reports {@code usageMetadata} as {@link #writeUsage} writes it. Gemini leaves out counts that are zero
     * (proto3 JSON), so an absent cache count is 0, not unknown.
     */
    private static void report(UsageSink sink, JsonNode metadata) {
        long prompt = prompt(metadata);
        long completion = completion(metadata);
        sink.record(prompt, completion, metadata.path("totalTokenCount").asLong(prompt + completion),
                    metadata.path("cachedContentTokenCount").asLong(0));
    }

    /** Returns OpenAI's prompt tokens: Gemini's prompt plus the tool-use prompt. */
    private static long prompt(JsonNode metadata) {
        return metadata.path("promptTokenCount").asLong(0) + metadata.path("toolUsePromptTokenCount").asLong(0);
    }

    /** Returns OpenAI's completion tokens: the candidates plus the thoughts. */
    private static long completion(JsonNode metadata) {
        return metadata.path("candidatesTokenCount").asLong(0) + metadata.path("thoughtsTokenCount").asLong(0);
    }

    /** Parses one JSON object. */
    static JsonNode parse(byte[] bytes, int offset, int length) throws TranslationException {
        JsonNode root;
        try {
            root = JSON.readTree(bytes, offset, length);
        } catch (IOException e) {
            throw new TranslationException("the provider's answer is not valid JSON");
        }
        if (root == null || !root.isObject()) {
            throw new TranslationException("the provider's answer is not a JSON object");
        }
        return root;
    }

    /** Keeps an id token to the characters every provider accepts in a tool-call id. */
    private static String safeToken(String token) {
        StringBuilder sb = new StringBuilder(token.length());
        for (int i = 0; i < token.length() && sb.length() < 64; i++) {
            char c = token.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
                         || c == '_';
            sb.append(ok ? c : '_');
        }
        return sb.toString();
    }

    /** Writes one chunk's JSON. */
    @FunctionalInterface
    private interface ChunkWriter {
        void write(JsonGenerator gen) throws IOException;
    }
}
