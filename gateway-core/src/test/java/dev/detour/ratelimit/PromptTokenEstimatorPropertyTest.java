package dev.detour.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.api.Endpoint;
import dev.detour.filter.RequestContext;
import dev.detour.filter.RequestExecutor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The two tiers over generated requests: whatever the text (ASCII, accents, CJK, emoji, special-token text),
 * the fields, and the tokenize budget (small budgets force extrapolation), the bound is never below the exact
 * estimate, the cheap figure never above the bound, and the deferred exact figure is the exact estimator's.
 */
class PromptTokenEstimatorPropertyTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Pieces of text that tokenize very differently: words, digits, spaces, multi-byte letters, emoji. */
    private static final List<String> PIECES = List.of("a", "hello", " world", "  ", "\n", "1234567", "é", "ü",
            "日", "本語", "한", "👍", "🏽", "👨‍👩‍👧", "{\"q\":1}", "<|endoftext|>", "\t", "ß", "∑", "🦄x");

    @Property(tries = 300)
    void theBoundIsNeverBelowTheExactEstimate(@ForAll("requests") Map<String, Object> request,
                                               @ForAll("budgets") int budget, @ForAll("endpoints") Endpoint endpoint)
            throws JsonProcessingException {
        String body = JSON.writeValueAsString(request);
        PromptTokenEstimator estimator = new PromptTokenEstimator(PromptTokenEstimator.DEFAULT_COMPLETION_TOKENS,
                                                                  budget);

        TokenEstimate estimate = estimator.estimate(context(endpoint, body));
        long exact = estimator.exact(context(endpoint, body));

        assertTrue(estimate.bound() >= exact, () -> "bound " + estimate.bound() + " < exact " + exact + ": " + body);
        assertTrue(estimate.cheap() <= estimate.bound(), () -> "cheap above the bound: " + body);
        assertTrue(estimate.cheap() >= 1);
        assertEquals(exact, estimate.exact(), body);
    }

    @Provide
    Arbitrary<Map<String, Object>> requests() {
        Arbitrary<List<Object>> messages = message().list().ofMaxSize(5).map(ArrayList::new);
        Arbitrary<Object> prompt = Arbitraries.oneOf(text().map(t -> (Object) t),
                                                     text().list().ofMaxSize(3).map(l -> (Object) l),
                                                     Arbitraries.integers().between(0, 100_000).list().ofMaxSize(6)
                                                             .map(l -> (Object) l));
        Arbitrary<Object> tools = Combinators.combine(text(), text()).as((name, description) -> (Object) List.of(
                Map.of("type", "function", "function", Map.of("name", name, "description", description))));
        Arbitrary<Object> maxTokens = Arbitraries.longs().between(-5, 5000).map(l -> (Object) l);
        Arbitrary<Object> n = Arbitraries.integers().between(0, 200).map(i -> (Object) i);
        return Combinators.combine(messages.optional(), prompt.optional(), tools.optional(), maxTokens.optional(),
                                   n.optional())
                .as((m, p, t, max, count) -> {
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("model", "m");
                    m.ifPresent(v -> r.put("messages", v));
                    p.ifPresent(v -> r.put(v instanceof String ? "prompt" : "input", v));
                    t.ifPresent(v -> r.put("tools", v));
                    max.ifPresent(v -> r.put("max_tokens", v));
                    count.ifPresent(v -> r.put("n", v));
                    return r;
                });
    }

    @Provide
    Arbitrary<Integer> budgets() {
        return Arbitraries.oneOf(Arbitraries.integers().between(0, 60),
                                 Arbitraries.just(PromptTokenEstimator.TOKENIZE_BUDGET_CHARS));
    }

    @Provide
    Arbitrary<Endpoint> endpoints() {
        return Arbitraries.of(Endpoint.CHAT_COMPLETIONS, Endpoint.COMPLETIONS, Endpoint.EMBEDDINGS);
    }

    private static Arbitrary<Object> message() {
        Arbitrary<Object> content = Arbitraries.oneOf(
                text().map(t -> (Object) t),
                text().list().ofMaxSize(3).map(parts -> {
                    List<Object> out = new ArrayList<>();
                    for (String part : parts) {
                        out.add(Map.of("type", "text", "text", part));
                    }
                    out.add(Map.of("type", "image_url", "image_url", Map.of("url", "data:image/png;base64,AAAA")));
                    return (Object) out;
                }));
        return Combinators.combine(Arbitraries.of("system", "user", "assistant"), content, text().optional())
                .as((role, c, name) -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("role", role);
                    m.put("content", c);
                    name.ifPresent(v -> m.put("name", v));
                    return m;
                });
    }

    /** Valid Unicode only: jtokkit asserts it (tests run with assertions on). */
    private static Arbitrary<String> text() {
        Arbitrary<String> pieces = Arbitraries.of(PIECES).list().ofMaxSize(30).map(l -> String.join("", l));
        Arbitrary<String> latin = Arbitraries.strings().withCharRange(' ', '~').withCharRange('\u00a0', '\u024f')
                .ofMaxLength(80);
        Arbitrary<String> cjk = Arbitraries.strings().withCharRange('\u4e00', '\u9fff').withChars(' ', '。')
                .ofMaxLength(40);
        return Arbitraries.oneOf(pieces, latin, cjk);
    }

    private static RequestContext context(Endpoint endpoint, String body) {
        return RateLimitTesting.raw(endpoint, body, RequestExecutor.DIRECT);
    }
}
