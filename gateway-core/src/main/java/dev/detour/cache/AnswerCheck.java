package dev.detour.cache;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.detour.api.Endpoint;
import java.io.IOException;

/**
 * Decides whether a successful JSON answer is complete enough to store: a {@code chat.completion} with
 * choices that each finished, or an embeddings list with data.
 *
 * <p>Runs once per answer that would be stored, never on a hit. Stateless and thread-safe.
 */
final class AnswerCheck {

    /** The answer cannot be stored. */
    static final int NOT_STORABLE = 0;
    /** The answer can be stored and reports its token usage. */
    static final int WITH_USAGE = 1;
    /** The answer can be stored but reports no token usage. */
    static final int WITHOUT_USAGE = 2;

    private static final ObjectReader READER = new ObjectMapper().reader();

    private AnswerCheck() {
    }

    /** Returns {@link #NOT_STORABLE}, {@link #WITH_USAGE} or {@link #WITHOUT_USAGE} for {@code body}. */
    static int check(Endpoint endpoint, byte[] body) {
        JsonNode root;
        try {
            root = READER.readTree(body);
        } catch (IOException e) {
            return NOT_STORABLE;
        }
        if (root == null || !root.isObject() || root.has("error")) {
            return NOT_STORABLE;
        }
        boolean complete = switch (endpoint) {
            case CHAT_COMPLETIONS -> completeChat(root);
            case EMBEDDINGS -> root.path("data").isArray() && !root.path("data").isEmpty();
            default -> false;
        };
        if (!complete) {
            return NOT_STORABLE;
        }
        return root.path("usage").isObject() ? WITH_USAGE : WITHOUT_USAGE;
    }

    private static boolean completeChat(JsonNode root) {
        JsonNode choices = root.path("choices");
        if (!choices.isArray() || choices.isEmpty() || !root.path("id").isTextual()) {
            return false;
        }
        for (JsonNode choice : choices) {
            if (!choice.path("message").isObject() || !choice.path("finish_reason").isTextual()) {
                return false;
            }
        }
        return true;
    }
}
