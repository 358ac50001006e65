package dev.detour.provider.mock;

import java.util.ArrayList;
import java.util.List;

/**
 * The mock's deterministic answer to a chat or completion request: a greeting that echoes the user's
 * text, cut to the allowed number of words. One whitespace-separated word counts as one token and is
 * one streamed chunk, so the streamed and the complete forms always agree.
 *
 * @param pieces           the streamed content fragments: the first word, then each next word with a leading space
 * @param content          all pieces joined
 * @param finishReason     {@code length} when the reply was cut to the token limit, else {@code stop}
 * @param promptTokens     the request's prompt token estimate
 * @param completionTokens the number of words in {@code content}
 */
record Generation(List<String> pieces, String content, String finishReason, int promptTokens, int completionTokens) {

    static final String GREETING = "Hello from Detour's mock provider.";
    static final String NO_USER_TEXT = GREETING + " There was no user message to echo, so here is a fixed reply.";

    /** How much of the user's text is echoed, in code points, so a huge prompt makes no huge reply. */
    static final int ECHO_LIMIT = 200;

    Generation {
        pieces = List.copyOf(pieces);
    }

    /** Returns the answer to {@code request}. */
    static Generation of(TextRequest request) {
        String text = request.userText().isEmpty()
                      ? NO_USER_TEXT
                      : GREETING + " You said: " + prefix(request.userText().strip(), ECHO_LIMIT);
        List<String> words = words(text);
        String finishReason = "stop";
        if (words.size() > request.maxTokens()) {
            words = words.subList(0, request.maxTokens());
            finishReason = "length";
        }
        List<String> pieces = new ArrayList<>(words.size());
        StringBuilder content = new StringBuilder(text.length());
        for (String word : words) {
            String piece = pieces.isEmpty() ? word : " " + word;
            pieces.add(piece);
            content.append(piece);
        }
        return new Generation(pieces, content.toString(), finishReason, request.promptTokens(), words.size());
    }

    /** Returns the prompt and completion tokens together. */
    int totalTokens() {
        return promptTokens + completionTokens;
    }

    /** Returns at most {@code limit} code points of {@code text}, never splitting a surrogate pair. */
    private static String prefix(String text, int limit) {
        if (text.codePointCount(0, text.length()) <= limit) {
            return text;
        }
        return text.substring(0, text.offsetByCodePoints(0, limit));
    }

    /** Splits on runs of whitespace; the result has no empty words. */
    private static List<String> words(String text) {
        List<String> words = new ArrayList<>();
        int start = -1;
        for (int i = 0; i < text.length(); i++) {
            if (Character.isWhitespace(text.charAt(i))) {
                if (start >= 0) {
                    words.add(text.substring(start, i));
                    start = -1;
                }
            } else if (start < 0) {
                start = i;
            }
        }
        if (start >= 0) {
            words.add(text.substring(start));
        }
        return words;
    }
}
