package dev.detour.provider.gemini;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.detour.api.UsageSink;
import dev.detour.provider.ByteSink;
import dev.detour.provider.ResponseTranslator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.Objects;

/**
 * Turns a {@code batchEmbedContents} answer ({@code embeddings[].values}) into OpenAI's embeddings list.
 *
 * <p>Gemini reports no token counts for embeddings, so {@code usage} is zero unless the answer carries
 * {@code usageMetadata}: a made-up estimate would look like a measurement. Counts the answer does carry go to the
 * request's {@link UsageSink} too. One per exchange; not thread-safe.
 */
final class EmbedTranslator implements ResponseTranslator {

    private final String model;
    private final int expected;
    private final boolean base64;
    private final UsageSink usageSink;

    EmbedTranslator(String model, int expected, boolean base64) {
        this(model, expected, base64, UsageSink.NONE);
    }

    /** Creates a translator that reports the answer's token counts, if any, to {@code usageSink}. */
    EmbedTranslator(String model, int expected, boolean base64, UsageSink usageSink) {
        this.model = model;
        this.expected = expected;
        this.base64 = base64;
        this.usageSink = Objects.requireNonNull(usageSink, "usageSink");
    }

    @Override
    public byte[] translateBody(byte[] upstreamBody) throws TranslationException {
        JsonNode root = GenerateTranslator.parse(upstreamBody, 0, upstreamBody.length);
        JsonNode embeddings = root.get("embeddings");
        if (embeddings == null || !embeddings.isArray()) {
            throw new TranslationException("batchEmbedContents answer has no 'embeddings' array");
        }
        if (embeddings.size() != expected) {
            throw new TranslationException("batchEmbedContents answered " + embeddings.size() + " embeddings for "
                                           + expected + " inputs");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(256 + embeddings.size() * 4096);
        try (JsonGenerator gen = GenerateTranslator.FACTORY.createGenerator(out)) {
            gen.writeStartObject();
            gen.writeStringField("object", "list");
            gen.writeArrayFieldStart("data");
            for (int i = 0; i < embeddings.size(); i++) {
                JsonNode values = embeddings.get(i).get("values");
                if (values == null || !values.isArray()) {
                    throw new TranslationException("embeddings[" + i + "] has no 'values' array");
                }
                gen.writeStartObject();
                gen.writeStringField("object", "embedding");
                gen.writeNumberField("index", i);
                gen.writeFieldName("embedding");
                if (base64) {
                    gen.writeString(encode(values));
                } else {
                    gen.writeStartArray();
                    for (JsonNode v : values) {
                        gen.writeNumber(v.floatValue());
                    }
                    gen.writeEndArray();
                }
                gen.writeEndObject();
            }
            gen.writeEndArray();
            gen.writeStringField("model", model);
            long prompt = root.path("usageMetadata").path("promptTokenCount").asLong(0);
            long total = root.path("usageMetadata").path("totalTokenCount").asLong(prompt);
            gen.writeObjectFieldStart("usage");
            gen.writeNumberField("prompt_tokens", prompt);
            gen.writeNumberField("total_tokens", total);
            gen.writeEndObject();
            gen.writeEndObject();
            if (root.path("usageMetadata").isObject()) {
                usageSink.record(prompt, 0, total, -1);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
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

    /** Returns the vector as OpenAI's base64 form: little-endian float32s. */
    private static String encode(JsonNode values) {
        ByteBuffer buf = ByteBuffer.allocate(values.size() * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (JsonNode v : values) {
            buf.putFloat(v.floatValue());
        }
        return Base64.getEncoder().encodeToString(buf.array());
    }
}
