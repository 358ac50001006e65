package dev.detour.provider.bedrock;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.detour.api.InvalidRequestException;
import dev.detour.api.UsageSink;
import dev.detour.provider.ByteSink;
import dev.detour.provider.ResponseTranslator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.Objects;

/**
 * Embeddings through Amazon Titan Text Embeddings v2 ({@code InvokeModel}): an OpenAI embeddings request becomes
 * {@code {"inputText": ..., "dimensions": ..., "normalize": true}}, and Titan's answer OpenAI's embeddings list.
 *
 * <p>Titan embeds one text per call, and one client request is one upstream exchange here, so an {@code input}
 * array of more than one string (or token arrays) is refused with a 400 that says so; an array of exactly one
 * string is accepted. {@code normalize} is always on, since OpenAI's embeddings are unit vectors.
 * {@code encoding_format: base64} is served by encoding the floats as little-endian float32, as OpenAI does.
 *
 * <p>The translator is one per exchange; not thread-safe.
 */
final class TitanEmbeddings implements ResponseTranslator {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String model;
    private final boolean base64;
    private final UsageSink usageSink;

    /** Creates the translator of one answer, for the client-facing {@code model}. */
    TitanEmbeddings(String model, boolean base64) {
        this(model, base64, UsageSink.NONE);
    }

    /** Creates the translator of one answer, reporting Titan's {@code inputTextTokenCount} to {@code usageSink}. */
    TitanEmbeddings(String model, boolean base64, UsageSink usageSink) {
        this.model = Objects.requireNonNull(model, "model");
        this.base64 = base64;
        this.usageSink = Objects.requireNonNull(usageSink, "usageSink");
    }

    /**
     * Returns the Titan body for the OpenAI embeddings request {@code request}.
     *
     * @throws InvalidRequestException if the input is not one string, or a field has an impossible value
     */
    static byte[] request(JsonNode request) throws InvalidRequestException {
        JsonNode input = request.get("input");
        String text;
        if (input != null && input.isTextual()) {
            text = input.asText();
        } else if (input != null && input.isArray() && input.size() == 1 && input.get(0).isTextual()) {
            text = input.get(0).asText();
        } else if (input != null && input.isArray() && input.size() > 1) {
            throw new InvalidRequestException("input: " + input.size() + " items; Bedrock's Titan embeddings take one "
                                              + "text per request (expected: a string, or an array of one string)",
                                              "input", null);
        } else {
            throw new InvalidRequestException("input: expected a string (Bedrock's Titan embeddings take text, not "
                                              + "token arrays)", "input", null);
        }
        String format = request.path("encoding_format").asText("float");
        if (!"float".equals(format) && !"base64".equals(format)) {
            throw new InvalidRequestException("encoding_format: '" + format + "' (expected: float or base64)",
                                              "encoding_format", null);
        }
        ObjectNode body = JSON.createObjectNode().put("inputText", text);
        JsonNode dimensions = request.get("dimensions");
        if (dimensions != null && !dimensions.isNull()) {
            if (!dimensions.isIntegralNumber() || !dimensions.canConvertToInt() || dimensions.asInt() < 1) {
                throw new InvalidRequestException("dimensions: " + dimensions + " (expected: an integer > 0)",
                                                  "dimensions", null);
            }
            body.put("dimensions", dimensions.asInt());
        }
        body.put("normalize", true);
        try {
            return JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise a JSON tree", e);
        }
    }

    /** Returns whether the client asked for base64 vectors. */
    static boolean base64(JsonNode request) {
        return "base64".equals(request.path("encoding_format").asText("float"));
    }

    @Override
    public byte[] translateBody(byte[] upstreamBody) throws TranslationException {
        JsonNode root;
        try {
            root = JSON.readTree(upstreamBody);
        } catch (IOException e) {
            throw new TranslationException("Titan embedding answer is not valid JSON");
        }
        JsonNode embedding = root == null ? null : root.get("embedding");
        if (embedding == null || !embedding.isArray()) {
            throw new TranslationException("Titan embedding answer without an embedding array");
        }
        long tokens = root.path("inputTextTokenCount").asLong(0);
        ChunkBuffer out = new ChunkBuffer(64 + embedding.size() * 12);
        try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("object", "list");
            g.writeArrayFieldStart("data");
            g.writeStartObject();
            g.writeStringField("object", "embedding");
            g.writeNumberField("index", 0);
            if (base64) {
                ByteBuffer floats = ByteBuffer.allocate(embedding.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (JsonNode v : embedding) {
                    floats.putFloat(v.floatValue());
                }
                g.writeStringField("embedding", Base64.getEncoder().encodeToString(floats.array()));
            } else {
                g.writeFieldName("embedding");
                g.writeTree(embedding);
            }
            g.writeEndObject();
            g.writeEndArray();
            g.writeStringField("model", model);
            g.writeObjectFieldStart("usage");
            g.writeNumberField("prompt_tokens", tokens);
            g.writeNumberField("total_tokens", tokens);
            g.writeEndObject();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (root.has("inputTextTokenCount")) {
            usageSink.record(tokens, 0, tokens, -1);
        }
        return out.toByteArray();
    }

    @Override
    public void translateStream(ByteBuffer upstreamBytes, ByteSink out) throws TranslationException {
        throw new TranslationException("embeddings are never streamed");
    }

    @Override
    public void endStream(ByteSink out) {
        // Never streamed: nothing to finish.
    }
}
