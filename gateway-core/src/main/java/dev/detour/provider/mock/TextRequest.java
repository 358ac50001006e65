package dev.detour.provider.mock;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What the mock needs from a chat or legacy completion request.
 *
 * @param userText     the text to echo: the last user message, or the last string prompt; empty when there is none
 * @param promptTokens the deterministic prompt token estimate, at least 1
 * @param maxTokens    how many words the reply may have at most; {@link Integer#MAX_VALUE} when unbounded
 * @param includeUsage whether a stream ends with a usage chunk ({@code stream_options.include_usage})
 */
record TextRequest(String userText, int promptTokens, int maxTokens, boolean includeUsage) {

    /** OpenAI's default {@code max_tokens} for legacy completions. */
    static final int COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

    /** Each chat message costs a few tokens of framing on top of its text, as OpenAI's tokenizer does. */
    private static final int TOKENS_PER_MESSAGE = 3;

    /** Reads a {@code /v1/chat/completions} body. */
    static TextRequest ofChat(JsonNode root) throws BadRequestException {
        JsonNode messages = RequestFields.required(root, "messages");
        if (!messages.isArray()) {
            throw RequestFields.invalidType("messages", "an array", messages);
        }
        if (messages.isEmpty()) {
            throw new BadRequestException("Invalid 'messages': empty array. Expected an array with minimum length 1, "
                                          + "but got an empty array instead.", "messages", "empty_array");
        }
        String lastUser = "";
        long chars = 0;
        for (JsonNode message : messages) {
            String text = textOf(message.path("content"));
            chars += text.length();
            if ("user".equals(message.path("role").asText()) && !text.isBlank()) {
                lastUser = text;
            }
        }
        long promptTokens = RequestFields.tokensOfChars(chars) + (long) TOKENS_PER_MESSAGE * messages.size();
        return new TextRequest(lastUser, (int) Math.max(1, Math.min(promptTokens, Integer.MAX_VALUE)), RequestFields.maxTokens(root, Integer.MAX_VALUE),
                               RequestFields.includeUsage(root));
    }

    /** Reads a {@code /v1/completions} body. */
    static TextRequest ofCompletion(JsonNode root) throws BadRequestException {
        JsonNode prompt = RequestFields.required(root, "prompt");
        String text = "";
        long tokens;
        if (prompt.isTextual()) {
            text = prompt.textValue();
            tokens = RequestFields.tokensOfChars(text.length());
        } else if (prompt.isArray() && !prompt.isEmpty()) {
            tokens = 0;
            for (JsonNode element : prompt) {
                if (element.isTextual()) {
                    // Several prompts would make several choices at OpenAI; the mock answers the last one only.
                    text = element.textValue();
                    tokens += RequestFields.tokensOfChars(text.length());
                } else if (element.isIntegralNumber()) {
                    tokens++;
                } else if (element.isArray()) {
                    tokens += element.size();
                } else {
                    throw RequestFields.invalidType("prompt", "a string, an array of strings or of token arrays",
                                                    element);
                }
            }
        } else {
            throw RequestFields.invalidType("prompt", "a string or a non-empty array", prompt);
        }
        int max = RequestFields.maxTokens(root, COMPLETIONS_DEFAULT_MAX_TOKENS);
        return new TextRequest(text.isBlank() ? "" : text, (int) Math.max(1, Math.min(tokens, Integer.MAX_VALUE)), max,
                               RequestFields.includeUsage(root));
    }

    /** Returns the text of a message's {@code content}: a string, or the {@code text} parts of an array. */
    private static String textOf(JsonNode content) {
        if (content.isTextual()) {
            return content.textValue();
        }
        if (!content.isArray()) {
            return "";
        }
        StringBuilder text = new StringBuilder();
        for (JsonNode part : content) {
            if ("text".equals(part.path("type").asText()) && part.path("text").isTextual()) {
                if (text.length() > 0) {
                    text.append('\n');
                }
                text.append(part.path("text").textValue());
            }
        }
        return text.toString();
    }
}
