package dev.detour.provider.mock;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Base64;
import java.util.SplittableRandom;

/**
 * Renders an {@link EmbeddingRequest} as an OpenAI embeddings list. Each vector is pseudo-random but
 * fixed by its input's seed, and L2-normalised as OpenAI's are, so equal inputs embed equally and
 * cosine similarity behaves like a dot product.
 */
final class EmbeddingReplies {

    private EmbeddingReplies() {
    }

    /** Returns the complete embeddings reply. */
    static MockReply full(EmbeddingRequest request, String model, Duration delay) {
        byte[] body = MockJson.write(gen -> {
            gen.writeStartObject();
            gen.writeStringField("object", "list");
            gen.writeArrayFieldStart("data");
            for (int i = 0; i < request.seeds().size(); i++) {
                float[] vector = vector(request.seeds().get(i), request.dimensions());
                gen.writeStartObject();
                gen.writeStringField("object", "embedding");
                gen.writeNumberField("index", i);
                if (request.base64()) {
                    gen.writeStringField("embedding", base64(vector));
                } else {
                    gen.writeArrayFieldStart("embedding");
                    for (float v : vector) {
                        gen.writeNumber(v);
                    }
                    gen.writeEndArray();
                }
                gen.writeEndObject();
            }
            gen.writeEndArray();
            gen.writeStringField("model", model);
            gen.writeObjectFieldStart("usage");
            gen.writeNumberField("prompt_tokens", request.promptTokens());
            gen.writeNumberField("total_tokens", request.promptTokens());
            gen.writeEndObject();
            gen.writeEndObject();
        });
        return MockReply.full(200, MockJson.JSON_HEADERS, delay, body);
    }

    /**
     * Returns the unit vector of length {@code dimensions} for {@code seed}. A shorter vector for the
     * same seed is a renormalised prefix of a longer one, as with OpenAI's {@code dimensions}.
     */
    static float[] vector(long seed, int dimensions) {
        // SplittableRandom's sequence for a seed is specified, so vectors do not change between JDKs.
        SplittableRandom random = new SplittableRandom(seed);
        double[] raw = new double[dimensions];
        double sumOfSquares = 0;
        for (int i = 0; i < dimensions; i++) {
            raw[i] = random.nextDouble() * 2 - 1;
            sumOfSquares += raw[i] * raw[i];
        }
        float[] vector = new float[dimensions];
        if (sumOfSquares == 0) {
            vector[0] = 1;
            return vector;
        }
        double norm = Math.sqrt(sumOfSquares);
        for (int i = 0; i < dimensions; i++) {
            vector[i] = (float) (raw[i] / norm);
        }
        return vector;
    }

    private static String base64(float[] vector) {
        ByteBuffer bytes = ByteBuffer.allocate(vector.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : vector) {
            bytes.putFloat(v);
        }
        return Base64.getEncoder().encodeToString(bytes.array());
    }
}
