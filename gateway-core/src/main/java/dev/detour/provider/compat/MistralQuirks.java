package dev.detour.provider.compat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Mistral's chat API validates bodies strictly: an unknown field is a 422 ("Extra inputs are not permitted").
 * This renames OpenAI's {@code seed} to {@code random_seed} and {@code max_completion_tokens} to
 * {@code max_tokens}, drops OpenAI-only fields whose absence changes nothing in the answer's shape, drops
 * {@code name} from non-tool messages, and maps foreign tool-call ids onto Mistral's nine-character format.
 *
 * <p>Fields Mistral does take ({@code n}, penalties, {@code response_format}, {@code tool_choice},
 * {@code parallel_tool_calls}, {@code prediction}, {@code safe_prompt}) pass as they are.
 */
final class MistralQuirks implements BodyQuirks {

    static final MistralQuirks INSTANCE = new MistralQuirks();

    /**
     * OpenAI-only fields that Mistral refuses and whose loss changes no field the client reads: tracking and
     * storage ({@code user}, {@code store}, {@code metadata}, {@code prompt_cache_key}, {@code safety_identifier}),
     * {@code service_tier}, {@code stream_options} (Mistral puts usage in its last chunk anyway), log
     * probabilities (the answer's {@code logprobs} stays {@code null}), {@code logit_bias}, {@code verbosity},
     * audio output and web search options.
     */
    static final List<String> DROPPED = List.of("user", "store", "metadata", "prompt_cache_key", "safety_identifier",
                                                "service_tier", "stream_options", "logprobs", "top_logprobs",
                                                "logit_bias", "verbosity", "modalities", "audio",
                                                "web_search_options");

    private static final KeyScanner TRIGGERS = KeyScanner.of(concat(DROPPED, List.of(
            "seed", "max_completion_tokens", "name", "tool_call_id", "tool_calls")));

    private MistralQuirks() {
    }

    @Override
    public KeyScanner triggers() {
        return TRIGGERS;
    }

    @Override
    public boolean apply(ObjectNode body, String provider) {
        boolean changed = BodyQuirks.rename(body, "seed", "random_seed");
        changed |= BodyQuirks.rename(body, "max_completion_tokens", "max_tokens");
        for (String field : DROPPED) {
            changed |= BodyQuirks.drop(body, field);
        }
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray()) {
            return changed;
        }
        for (JsonNode m : messages) {
            if (!m.isObject()) {
                continue;
            }
            ObjectNode message = (ObjectNode) m;
            boolean tool = "tool".equals(message.path("role").asText());
            if (!tool) {
                // Mistral's tool messages carry the function name; its other roles have no name field.
                changed |= BodyQuirks.drop(message, "name");
            }
            changed |= mapId(message, "tool_call_id");
            JsonNode calls = message.get("tool_calls");
            if (calls != null && calls.isArray()) {
                for (JsonNode call : calls) {
                    if (call.isObject()) {
                        changed |= mapId((ObjectNode) call, "id");
                    }
                }
            }
        }
        return changed;
    }

    private static boolean mapId(ObjectNode node, String field) {
        JsonNode id = node.get(field);
        if (id == null || !id.isTextual() || ToolCallIds.isMistralId(id.asText())) {
            return false;
        }
        node.set(field, TextNode.valueOf(ToolCallIds.toMistral(id.asText())));
        return true;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
