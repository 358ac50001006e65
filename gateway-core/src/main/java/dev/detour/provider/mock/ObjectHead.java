package dev.detour.provider.mock;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/**
 * The fields every chat and completion object of one reply shares, written first as OpenAI does.
 *
 * @param id      the object id, the same in every chunk of a stream
 * @param created epoch seconds
 * @param model   the model the reply names
 */
record ObjectHead(String id, long created, String model) {

    /** Writes {@code id}, {@code object}, {@code created}, {@code model} and {@code system_fingerprint}. */
    void write(JsonGenerator gen, String object) throws IOException {
        gen.writeStringField("id", id);
        gen.writeStringField("object", object);
        gen.writeNumberField("created", created);
        gen.writeStringField("model", model);
        gen.writeStringField("system_fingerprint", MockJson.FINGERPRINT);
    }

    /** Writes the {@code usage} field of {@code generation}. */
    static void writeUsage(JsonGenerator gen, Generation generation) throws IOException {
        gen.writeObjectFieldStart("usage");
        gen.writeNumberField("prompt_tokens", generation.promptTokens());
        gen.writeNumberField("completion_tokens", generation.completionTokens());
        gen.writeNumberField("total_tokens", generation.totalTokens());
        gen.writeEndObject();
    }
}
