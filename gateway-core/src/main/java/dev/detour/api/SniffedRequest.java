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
 * @param streamOptions   whether the body has a {@code stream_options} field (of any value)
 * @param includeUsage    whether {@code stream_options.include_usage} is {@code true}
 * @param objectEnd       byte offset of the closing brace of the top-level object
 */
public record SniffedRequest(String model, boolean stream, String user, int modelValueStart, int modelValueEnd,
                             boolean streamOptions, boolean includeUsage, int objectEnd) {

    public SniffedRequest {
        Objects.requireNonNull(model, "model");
        if (modelValueStart < 0 || modelValueEnd <= modelValueStart) {
            throw new IllegalArgumentException(
                    "model value span: [" + modelValueStart + ", " + modelValueEnd + ") (expected: non-empty)");
        }
    }

    /** Returns a request read without the stream options and object end (tests, adapters' own bodies). */
    public SniffedRequest(String model, boolean stream, String user, int modelValueStart, int modelValueEnd) {
        this(model, stream, user, modelValueStart, modelValueEnd, false, false, -1);
    }
}
