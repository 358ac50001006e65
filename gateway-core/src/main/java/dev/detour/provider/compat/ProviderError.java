package dev.detour.provider.compat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.error.ErrorResponses;
import java.io.IOException;
import java.util.Objects;
import java.util.Optional;

/**
 * An error answer of an OpenAI-compatible host, read from whichever shape the host uses:
 * <ul>
 *   <li>OpenAI's envelope {@code {"error":{"message":…,"type":…,"param":…,"code":…}}}, also with a numeric
 *       {@code code} (OpenRouter, Perplexity) or extra fields ({@code metadata}, Azure's {@code innererror});</li>
 *   <li>a flat object {@code {"object":"error","message":…,"type":…,"code":…}} (Mistral, Cerebras, vLLM), where
 *       {@code message} may itself be an object (Mistral's 422 validation details);</li>
 *   <li>{@code {"error":"text"}} (xAI), {@code {"detail":…}} (FastAPI servers) or a bare JSON string.</li>
 * </ul>
 *
 * @param message  the provider's message, never {@code null} (empty when it gave none)
 * @param type     {@code error.type}, or {@code null}
 * @param code     {@code error.code} as text (a numeric code becomes its digits), or {@code null}
 * @param param    {@code error.param}, or {@code null}
 * @param standard whether the body already is OpenAI's envelope with string fields, so that OpenAI SDKs
 *                 parse it as it is
 */
public record ProviderError(String message, String type, String code, String param, boolean standard) {

    /** Longest message kept from a structured (non-string) message, such as a list of validation errors. */
    static final int MAX_STRUCTURED_MESSAGE = 2000;

    private static final ObjectMapper JSON = new ObjectMapper();

    public ProviderError {
        Objects.requireNonNull(message, "message");
    }

    /**
     * Reads the error of {@code body}; empty when the body is empty, not JSON (an HTML page from a proxy) or
     * carries no recognisable error. Never throws.
     */
    public static Optional<ProviderError> parse(byte[] body) {
        if (body == null || body.length == 0) {
            return Optional.empty();
        }
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            return Optional.empty();
        }
        if (root == null) {
            return Optional.empty();
        }
        if (root.isTextual()) {
            return Optional.of(new ProviderError(root.asText(), null, null, null, false));
        }
        if (!root.isObject()) {
            return Optional.empty();
        }
        JsonNode error = root.get("error");
        if (error != null && error.isObject()) {
            return Optional.of(of(error, true));
        }
        if (error != null && error.isTextual()) {
            return Optional.of(new ProviderError(error.asText(), null, null, null, false));
        }
        if (root.has("message")) {
            return Optional.of(of(root, false));
        }
        JsonNode detail = root.get("detail");
        if (detail != null && !detail.isNull()) {
            return Optional.of(new ProviderError(messageOf(detail), null, null, null, false));
        }
        return Optional.empty();
    }

    /** Returns whether the message contains {@code fragment}, ignoring ASCII case. */
    public boolean mentions(String fragment) {
        return indexOfIgnoreCase(message, fragment) >= 0;
    }

    /** Returns this error in OpenAI's envelope, with {@code type} defaulted to {@code fallbackType}. */
    public byte[] toEnvelope(String fallbackType) {
        return ErrorResponses.body(type == null ? fallbackType : type, message, code, param);
    }

    private static ProviderError of(JsonNode node, boolean envelope) {
        JsonNode message = node.get("message");
        JsonNode type = node.get("type");
        JsonNode code = node.get("code");
        JsonNode param = node.get("param");
        boolean standard = envelope
                           && (message == null || message.isTextual())
                           && (type == null || type.isTextual() || type.isNull())
                           && (code == null || code.isTextual() || code.isNull())
                           && (param == null || param.isTextual() || param.isNull());
        String codeText = code != null && (code.isTextual() || code.isNumber()) ? code.asText() : null;
        return new ProviderError(message == null || message.isNull() ? "" : messageOf(message), textOf(type),
                                 codeText, textOf(param), standard);
    }

    private static String messageOf(JsonNode node) {
        if (node.isTextual()) {
            return node.asText();
        }
        String text = node.toString();
        return text.length() <= MAX_STRUCTURED_MESSAGE ? text : text.substring(0, MAX_STRUCTURED_MESSAGE) + "…";
    }

    private static String textOf(JsonNode node) {
        return node != null && node.isTextual() ? node.asText() : null;
    }

    static int indexOfIgnoreCase(String haystack, String needle) {
        int max = haystack.length() - needle.length();
        for (int i = 0; i <= max; i++) {
            if (haystack.regionMatches(true, i, needle, 0, needle.length())) {
                return i;
            }
        }
        return -1;
    }
}
