package dev.detour.api;

import java.util.Objects;

/**
 * The few body fields routing needs, read without building a tree.
 *
 * @param model           the requested model name
 * @param stream          whether {@code "stream": true} was sent
 * @param user            the OpenAI {@code user} field, or {@code null}
 * @param modelValueStart byte offset of the opening quote of the {@code model} value in the body
 * @param modelValueEnd   byte offset just past its closing quote
 */
public record SniffedRequest(String model, boolean stream, String user, int modelValueStart, int modelValueEnd) {

    public SniffedRequest {
        Objects.requireNonNull(model, "model");
        if (modelValueStart < 0 || modelValueEnd <= modelValueStart) {
            throw new IllegalArgumentException(
                    "model value span: [" + modelValueStart + ", " + modelValueEnd + ") (expected: non-empty)");
        }
    }
}
