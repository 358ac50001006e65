package dev.detour.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import dev.detour.api.Endpoint;
import dev.detour.filter.RequestExecutor;
import org.junit.jupiter.api.Test;

class PromptTokenEstimatorTest {

    private static final Encoding CL100K = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);
    private static final int FRAMING = PromptTokenEstimator.TOKENS_PER_MESSAGE;
    private static final int PRIMING = PromptTokenEstimator.REPLY_PRIMING_TOKENS;
    private static final long DEFAULT = PromptTokenEstimator.DEFAULT_COMPLETION_TOKENS;

    private final PromptTokenEstimator estimator = new PromptTokenEstimator();

    @Test
    void countsChatMessagesWithFramingAndTheDefaultCompletion() {
        long estimate = estimate(Endpoint.CHAT_COMPLETIONS, """
                {"model":"m","messages":[
                  {"role":"system","content":"You are terse."},
                  {"role":"user","content":"What is a token bucket?"}]}
                """);

        assertEquals(tokens("You are terse.") + tokens("What is a token bucket?") + 2 * FRAMING + PRIMING + DEFAULT,
                     estimate);
    }

    @Test
    void countsTextPartsButNotImagesRolesOrIds() {
        long estimate = estimate(Endpoint.CHAT_COMPLETIONS, """
                {"model":"m","max_tokens":10,"messages":[
                  {"role":"user","content":[
                    {"type":"text","text":"Describe this picture"},
                    {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAE"}}]},
                  {"role":"assistant","tool_calls":[{"id":"call_1","type":"function",
                    "function":{"name":"lookup","arguments":"{\\"q\\":\\"cats\\"}"}}]}]}
                """);

        long text = tokens("Describe this picture") + tokens("lookup") + tokens("{\"q\":\"cats\"}");
        assertEquals(text + 2 * FRAMING + PRIMING + 10, estimate);
    }

    @Test
    void prefersMaxCompletionTokensAndMultipliesByN() {
        long estimate = estimate(Endpoint.CHAT_COMPLETIONS, """
                {"model":"m","n":3,"max_tokens":500,"max_completion_tokens":100,
                 "messages":[{"role":"user","content":"hi"}]}
                """);

        assertEquals(tokens("hi") + FRAMING + PRIMING + 300, estimate);
    }

    @Test
    void countsToolDefinitions() {
        long without = estimate(Endpoint.CHAT_COMPLETIONS, "{\"model\":\"m\",\"messages\":[]}");
        long with = estimate(Endpoint.CHAT_COMPLETIONS, """
                {"model":"m","messages":[],"tools":[{"type":"function","function":{"name":"get_weather",
                 "description":"Returns the weather for a city"}}]}
                """);

        assertEquals(tokens("function") + tokens("get_weather") + tokens("Returns the weather for a city"),
                     with - without);
    }

    @Test
    void countsCompletionPromptsInEveryShape() {
        assertEquals(tokens("Once upon a time") + 16, estimate(Endpoint.COMPLETIONS,
                "{\"model\":\"m\",\"prompt\":\"Once upon a time\",\"max_tokens\":16}"));
        assertEquals(tokens("a cat") + tokens("a dog") + DEFAULT,
                     estimate(Endpoint.COMPLETIONS, "{\"model\":\"m\",\"prompt\":[\"a cat\",\"a dog\"]}"));
        assertEquals(5 + 1, estimate(Endpoint.COMPLETIONS,
                                     "{\"model\":\"m\",\"prompt\":[[1,2,3],[4,5]],\"max_tokens\":1}"));
    }

    @Test
    void embeddingsReserveNoCompletion() {
        assertEquals(tokens("the quick brown fox"),
                     estimate(Endpoint.EMBEDDINGS, "{\"model\":\"m\",\"input\":\"the quick brown fox\"}"));
        assertEquals(tokens("one") + tokens("two"),
                     estimate(Endpoint.EMBEDDINGS, "{\"model\":\"m\",\"input\":[\"one\",\"two\"]}"));
        assertEquals(1, estimate(Endpoint.EMBEDDINGS, "{\"model\":\"m\",\"input\":[]}"), "never below 1");
    }

    @Test
    void extrapolatesPastTheTokenizeBudget() {
        String sentence = "Rate limits keep a shared gateway fair for every team that uses it. ";
        String text = sentence.repeat(200);
        String body = "{\"model\":\"m\",\"max_tokens\":0,\"messages\":[{\"role\":\"user\",\"content\":\"" + text
                      + "\"}]}";
        long exact = tokens(text) + FRAMING + PRIMING;

        long budgeted = new PromptTokenEstimator(DEFAULT, 1000)
                .estimate(RateLimitTesting.raw(Endpoint.CHAT_COMPLETIONS, body, RequestExecutor.DIRECT));

        assertTrue(Math.abs(budgeted - exact) <= exact / 50,
                   "within 2% of the exact count: " + budgeted + " vs " + exact);
    }

    @Test
    void fallsBackToTheBodyLengthWhenTheBodyIsNotAnObject() {
        String body = "[\"not\",\"a\",\"request\"]";

        long estimate = estimate(Endpoint.CHAT_COMPLETIONS, body);
        long broken = estimate(Endpoint.CHAT_COMPLETIONS, "{\"messages\":[{\"content\":");

        assertEquals(body.length() / 4 + DEFAULT, estimate);
        assertTrue(broken >= DEFAULT, "a truncated body still gets an estimate: " + broken);
    }

    @Test
    void specialTokenTextIsOrdinaryText() {
        long estimate = estimate(Endpoint.EMBEDDINGS, "{\"model\":\"m\",\"input\":\"<|endoftext|>\"}");

        assertEquals(CL100K.countTokensOrdinary("<|endoftext|>"), estimate);
    }

    private long estimate(Endpoint endpoint, String body) {
        return estimator.estimate(RateLimitTesting.raw(endpoint, body, RequestExecutor.DIRECT));
    }

    private static long tokens(String text) {
        return CL100K.countTokensOrdinary(text);
    }
}
