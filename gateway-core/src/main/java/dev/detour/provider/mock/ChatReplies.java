package dev.detour.provider.mock;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Renders a {@link Generation} as a {@code chat.completion} object or a stream of
 * {@code chat.completion.chunk}s, in the shapes of providers.md §2.2 and §2.3.
 */
final class ChatReplies {

    private ChatReplies() {
    }

    /** Returns the complete {@code chat.completion} reply. */
    static MockReply full(ObjectHead head, Generation generation, Duration delay) {
        byte[] body = MockJson.write(gen -> {
            gen.writeStartObject();
            head.write(gen, "chat.completion");
            gen.writeArrayFieldStart("choices");
            gen.writeStartObject();
            gen.writeNumberField("index", 0);
            gen.writeObjectFieldStart("message");
            gen.writeStringField("role", "assistant");
            gen.writeStringField("content", generation.content());
            gen.writeNullField("refusal");
            gen.writeEndObject();
            gen.writeNullField("logprobs");
            gen.writeStringField("finish_reason", generation.finishReason());
            gen.writeEndObject();
            gen.writeEndArray();
            ObjectHead.writeUsage(gen, generation);
            gen.writeEndObject();
        });
        return MockReply.full(200, MockJson.JSON_HEADERS, delay, body);
    }

    /**
     * Returns the streamed reply: a role chunk, one chunk per word, a finish chunk, the usage chunk when
     * {@code includeUsage}, then {@code [DONE]}.
     */
    static MockReply stream(ObjectHead head, Generation generation, boolean includeUsage, Duration delay,
                            Duration interEventDelay) {
        List<byte[]> events = new ArrayList<>(generation.pieces().size() + 4);
        events.add(MockJson.event(gen -> chunk(gen, head, includeUsage, "", true, null)));
        for (String piece : generation.pieces()) {
            events.add(MockJson.event(gen -> chunk(gen, head, includeUsage, piece, false, null)));
        }
        events.add(MockJson.event(gen -> chunk(gen, head, includeUsage, null, false, generation.finishReason())));
        if (includeUsage) {
            events.add(MockJson.event(gen -> {
                gen.writeStartObject();
                head.write(gen, "chat.completion.chunk");
                gen.writeArrayFieldStart("choices");
                gen.writeEndArray();
                ObjectHead.writeUsage(gen, generation);
                gen.writeEndObject();
            }));
        }
        events.add(MockJson.DONE);
        return MockReply.stream(MockJson.SSE_HEADERS, delay, events, interEventDelay);
    }

    /**
     * Writes one chunk with a single choice.
     *
     * @param content      the delta's content, or {@code null} for an empty delta
     * @param role         whether the delta names the assistant role (the first chunk only)
     * @param finishReason the finish reason, or {@code null} while content still flows
     */
    private static void chunk(JsonGenerator gen, ObjectHead head, boolean includeUsage, String content, boolean role,
                              String finishReason) throws IOException {
        gen.writeStartObject();
        head.write(gen, "chat.completion.chunk");
        gen.writeArrayFieldStart("choices");
        gen.writeStartObject();
        gen.writeNumberField("index", 0);
        gen.writeObjectFieldStart("delta");
        if (role) {
            gen.writeStringField("role", "assistant");
        }
        if (content != null) {
            gen.writeStringField("content", content);
        }
        gen.writeEndObject();
        gen.writeStringField("finish_reason", finishReason);
        gen.writeEndObject();
        gen.writeEndArray();
        if (includeUsage) {
            // With include_usage every chunk but the last carries an explicit null, as OpenAI sends.
            gen.writeNullField("usage");
        }
        gen.writeEndObject();
    }
}
