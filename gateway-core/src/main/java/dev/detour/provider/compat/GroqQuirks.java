package dev.detour.provider.compat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.detour.api.InvalidRequestException;
import java.util.List;

/**
 * Groq answers 400 to {@code logprobs}, {@code top_logprobs}, {@code logit_bias}, {@code messages[].name} and
 * {@code n} other than 1 (console.groq.com/docs/openai). The first four are dropped: the answer keeps its shape
 * ({@code logprobs} stays {@code null}, the sampling loses its bias). {@code n > 1} is refused with a 400 naming
 * the field, since dropping it would return fewer choices than the client asked for.
 */
final class GroqQuirks implements BodyQuirks {

    static final GroqQuirks INSTANCE = new GroqQuirks();

    static final List<String> DROPPED = List.of("logprobs", "top_logprobs", "logit_bias");

    private static final KeyScanner TRIGGERS = KeyScanner.of(List.of("logprobs", "top_logprobs", "logit_bias",
                                                                     "name", "n"));

    private GroqQuirks() {
    }

    @Override
    public KeyScanner triggers() {
        return TRIGGERS;
    }

    @Override
    public boolean apply(ObjectNode body, String provider) throws InvalidRequestException {
        JsonNode n = body.get("n");
        if (n != null && !n.isNull() && !(n.canConvertToInt() && n.asInt() == 1)) {
            throw new InvalidRequestException("n: " + n + " (expected: 1; provider '" + provider
                                              + "' (groq) returns one choice per request)", "n",
                                              "unsupported_parameter");
        }
        boolean changed = false;
        for (String field : DROPPED) {
            changed |= BodyQuirks.drop(body, field);
        }
        JsonNode messages = body.get("messages");
        if (messages != null && messages.isArray()) {
            for (JsonNode m : messages) {
                if (m.isObject()) {
                    changed |= BodyQuirks.drop((ObjectNode) m, "name");
                }
            }
        }
        return changed;
    }
}
