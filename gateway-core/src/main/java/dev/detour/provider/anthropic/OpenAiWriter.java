package dev.detour.provider.anthropic;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.detour.provider.ByteSink;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes the OpenAI objects a client receives for an Anthropic answer: {@code chat.completion} or
 * {@code text_completion} bodies, and their stream chunks as SSE events ({@code providers.md} §2.2, §2.3, §2.6).
 *
 * <p>One per exchange; not thread-safe. The buffer is reused from event to event.
 */
final class OpenAiWriter {

    private static final JsonFactory JSON = new JsonFactory();
    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);

    private final Shape shape;
    private final boolean includeUsage;
    private final Buffer buffer = new Buffer();
    private String id = "";
    private String model = "";
    private long created;

    /**
     * Creates a writer.
     *
     * @param includeUsage whether the client asked for {@code stream_options.include_usage}: then every chunk
     *                     carries {@code "usage": null} and a usage chunk ends the stream
     */
    OpenAiWriter(Shape shape, boolean includeUsage) {
        this.shape = shape;
        this.includeUsage = includeUsage;
    }

    /** Sets the head every object of this answer repeats. */
    void head(String anthropicId, String upstreamModel, long createdEpochSeconds) {
        this.id = (shape == Shape.CHAT ? "chatcmpl-" : "cmpl-") + anthropicId;
        this.model = upstreamModel;
        this.created = createdEpochSeconds;
    }

    /** Returns a complete answer: {@code content} may be {@code null} when there are tool calls. */
    byte[] completion(String content, List<ToolCall> toolCalls, String finishReason, Usage usage) {
        buffer.reset();
        try (JsonGenerator gen = JSON.createGenerator(buffer)) {
            gen.writeStartObject();
            writeHead(gen, shape == Shape.CHAT ? "chat.completion" : "text_completion");
            gen.writeArrayFieldStart("choices");
            gen.writeStartObject();
            if (shape == Shape.TEXT) {
                gen.writeStringField("text", content == null ? "" : content);
                gen.writeNumberField("index", 0);
            } else {
                gen.writeNumberField("index", 0);
                gen.writeObjectFieldStart("message");
                gen.writeStringField("role", "assistant");
                gen.writeStringField("content", content);
                gen.writeNullField("refusal");
                if (!toolCalls.isEmpty()) {
                    gen.writeArrayFieldStart("tool_calls");
                    for (ToolCall call : toolCalls) {
                        gen.writeStartObject();
                        gen.writeStringField("id", call.id());
                        gen.writeStringField("type", "function");
                        gen.writeObjectFieldStart("function");
                        gen.writeStringField("name", call.name());
                        gen.writeStringField("arguments", call.arguments());
                        gen.writeEndObject();
                        gen.writeEndObject();
                    }
                    gen.writeEndArray();
                }
                gen.writeEndObject();
            }
            gen.writeNullField("logprobs");
            gen.writeStringField("finish_reason", finishReason);
            gen.writeEndObject();
            gen.writeEndArray();
            writeUsage(gen, usage);
            gen.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buffer.toByteArray();
    }

    /** Writes the first chat chunk: {@code delta: {"role": "assistant", "content": ""}}. Chat only. */
    void roleChunk(ByteSink out) {
        event(out, gen -> {
            gen.writeStringField("role", "assistant");
            gen.writeStringField("content", "");
        }, null);
    }

    /** Writes a chunk carrying a piece of the answer's text. */
    void textChunk(String text, ByteSink out) {
        if (shape == Shape.TEXT) {
            textEvent(out, text, null);
            return;
        }
        event(out, gen -> gen.writeStringField("content", text), null);
    }

    /** Writes the first fragment of tool call {@code index}: its id, name and empty arguments. */
    void toolCallStart(int index, String callId, String name, ByteSink out) {
        event(out, gen -> {
            gen.writeArrayFieldStart("tool_calls");
            gen.writeStartObject();
            gen.writeNumberField("index", index);
            gen.writeStringField("id", callId);
            gen.writeStringField("type", "function");
            gen.writeObjectFieldStart("function");
            gen.writeStringField("name", name);
            gen.writeStringField("arguments", "");
            gen.writeEndObject();
            gen.writeEndObject();
            gen.writeEndArray();
        }, null);
    }

    /** Writes a further piece of tool call {@code index}'s arguments. */
    void toolCallArguments(int index, String fragment, ByteSink out) {
        event(out, gen -> {
            gen.writeArrayFieldStart("tool_calls");
            gen.writeStartObject();
            gen.writeNumberField("index", index);
            gen.writeObjectFieldStart("function");
            gen.writeStringField("arguments", fragment);
            gen.writeEndObject();
            gen.writeEndObject();
            gen.writeEndArray();
        }, null);
    }

    /** Writes the chunk with an empty delta (chat) or empty text (completions) and {@code finishReason}. */
    void finishChunk(String finishReason, ByteSink out) {
        if (shape == Shape.TEXT) {
            textEvent(out, "", finishReason);
            return;
        }
        event(out, gen -> { }, finishReason);
    }

    /** Writes the usage chunk ({@code choices: []}) if the client asked for it, then {@code data: [DONE]}. */
    void end(Usage usage, ByteSink out) {
        if (includeUsage) {
            buffer.reset();
            try (JsonGenerator gen = JSON.createGenerator(buffer)) {
                gen.writeStartObject();
                writeHead(gen, chunkObject());
                gen.writeArrayFieldStart("choices");
                gen.writeEndArray();
                writeUsage(gen, usage);
                gen.writeEndObject();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            emit(out);
        }
        out.write(DONE);
    }

    private void event(ByteSink out, Fields delta, String finishReason) {
        buffer.reset();
        try (JsonGenerator gen = JSON.createGenerator(buffer)) {
            gen.writeStartObject();
            writeHead(gen, "chat.completion.chunk");
            gen.writeArrayFieldStart("choices");
            gen.writeStartObject();
            gen.writeNumberField("index", 0);
            gen.writeObjectFieldStart("delta");
            delta.write(gen);
            gen.writeEndObject();
            gen.writeNullField("logprobs");
            gen.writeStringField("finish_reason", finishReason);
            gen.writeEndObject();
            gen.writeEndArray();
            if (includeUsage) {
                gen.writeNullField("usage");
            }
            gen.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        emit(out);
    }

    private void textEvent(ByteSink out, String text, String finishReason) {
        buffer.reset();
        try (JsonGenerator gen = JSON.createGenerator(buffer)) {
            gen.writeStartObject();
            writeHead(gen, "text_completion");
            gen.writeArrayFieldStart("choices");
            gen.writeStartObject();
            gen.writeStringField("text", text);
            gen.writeNumberField("index", 0);
            gen.writeNullField("logprobs");
            gen.writeStringField("finish_reason", finishReason);
            gen.writeEndObject();
            gen.writeEndArray();
            if (includeUsage) {
                gen.writeNullField("usage");
            }
            gen.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        emit(out);
    }

    private String chunkObject() {
        return shape == Shape.CHAT ? "chat.completion.chunk" : "text_completion";
    }

    private void writeHead(JsonGenerator gen, String object) throws IOException {
        gen.writeStringField("id", id);
        gen.writeStringField("object", object);
        gen.writeNumberField("created", created);
        gen.writeStringField("model", model);
    }

    private static void writeUsage(JsonGenerator gen, Usage usage) throws IOException {
        gen.writeObjectFieldStart("usage");
        gen.writeNumberField("prompt_tokens", usage.prompt());
        gen.writeNumberField("completion_tokens", usage.output());
        gen.writeNumberField("total_tokens", usage.total());
        gen.writeObjectFieldStart("prompt_tokens_details");
        gen.writeNumberField("cached_tokens", usage.cacheRead());
        gen.writeEndObject();
        gen.writeEndObject();
    }

    private void emit(ByteSink out) {
        out.write(DATA);
        buffer.writeTo(out);
        out.write(END);
    }

    /** Writes the fields of a chunk's {@code delta}. */
    @FunctionalInterface
    private interface Fields {
        void write(JsonGenerator gen) throws IOException;
    }

    /** A byte buffer whose content goes to a sink without a copy. */
    private static final class Buffer extends ByteArrayOutputStream {
        Buffer() {
            super(256);
        }

        void writeTo(ByteSink out) {
            out.write(buf, 0, count);
        }
    }

    /** Which OpenAI endpoint the client called, hence which object shapes it expects. */
    enum Shape {
        /** {@code /v1/chat/completions}: {@code chat.completion} and {@code chat.completion.chunk}. */
        CHAT,
        /** {@code /v1/completions}: {@code text_completion} for bodies and chunks alike. */
        TEXT
    }

    /** A tool call of a complete answer. */
    record ToolCall(String id, String name, String arguments) {
    }
}
