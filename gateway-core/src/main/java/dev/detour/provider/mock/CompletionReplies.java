package dev.detour.provider.mock;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Renders a {@link Generation} as a legacy {@code text_completion} object or a stream of
 * {@code text_completion} chunks (providers.md §2.6).
 */
final class CompletionReplies {

    private CompletionReplies() {
    }

    /** Returns the complete {@code text_completion} reply. */
    static MockReply full(ObjectHead head, Generation generation, Duration delay) {
        byte[] body = MockJson.write(gen -> {
            gen.writeStartObject();
            head.write(gen, "text_completion");
            writeChoices(gen, generation.content(), generation.finishReason());
            ObjectHead.writeUsage(gen, generation);
            gen.writeEndObject();
        });
        return MockReply.full(200, MockJson.JSON_HEADERS, delay, body);
    }

    /**
     * Returns the streamed reply: one chunk per word, a chunk with empty text and the finish reason,
     * the usage chunk when {@code includeUsage}, then {@code [DONE]}.
     */
    static MockReply stream(ObjectHead head, Generation generation, boolean includeUsage, Duration delay,
                            Duration interEventDelay) {
        List<byte[]> events = new ArrayList<>(generation.pieces().size() + 3);
        for (String piece : generation.pieces()) {
            events.add(MockJson.event(gen -> chunk(gen, head, includeUsage, piece, null)));
        }
        events.add(MockJson.event(gen -> chunk(gen, head, includeUsage, "", generation.finishReason())));
        if (includeUsage) {
            events.add(MockJson.event(gen -> {
                gen.writeStartObject();
                head.write(gen, "text_completion");
                gen.writeArrayFieldStart("choices");
                gen.writeEndArray();
                ObjectHead.writeUsage(gen, generation);
                gen.writeEndObject();
            }));
        }
        events.add(MockJson.DONE);
        return MockReply.stream(MockJson.SSE_HEADERS, delay, events, interEventDelay);
    }

    private static void chunk(JsonGenerator gen, ObjectHead head, boolean includeUsage, String text,
                              String finishReason) throws IOException {
        gen.writeStartObject();
        head.write(gen, "text_completion");
        writeChoices(gen, text, finishReason);
        if (includeUsage) {
            // Mirrors chat streams: with include_usage only the last chunk carries numbers.
            gen.writeNullField("usage");
        }
        gen.writeEndObject();
    }

    private static void writeChoices(JsonGenerator gen, String text, String finishReason) throws IOException {
        gen.writeArrayFieldStart("choices");
        gen.writeStartObject();
        gen.writeStringField("text", text);
        gen.writeNumberField("index", 0);
        gen.writeNullField("logprobs");
        gen.writeStringField("finish_reason", finishReason);
        gen.writeEndObject();
        gen.writeEndArray();
    }
}
