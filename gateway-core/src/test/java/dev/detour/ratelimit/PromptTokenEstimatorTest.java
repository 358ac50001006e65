package dev.detour.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import dev.detour.api.Endpoint;
import dev.detour.filter.RequestContext;
import dev.detour.filter.RequestExecutor;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
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
                .exact(RateLimitTesting.raw(Endpoint.CHAT_COMPLETIONS, body, RequestExecutor.DIRECT));

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

    @Test
    void theCheapPassCountsBytesOfTheSameTextsWithTheSameFraming() {
        String text = "Résumé: 日本語 👍🏽";
        TokenEstimate estimate = estimator.estimate(context(Endpoint.CHAT_COMPLETIONS, """
                {"model":"m","max_tokens":10,"messages":[
                  {"role":"system","content":"%s"},
                  {"role":"user","name":"bob","content":[
                    {"type":"text","text":"ok"},
                    {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAE"}}]}]}
                """.formatted(text)));

        long bytes = utf8(text) + utf8("bob") + utf8("ok");
        long fixed = 2 * FRAMING + PRIMING + 10;
        assertEquals(fixed + bytes, estimate.bound());
        assertEquals(fixed + (bytes + 3) / 4, estimate.cheap());
        assertEquals(fixed + tokens(text) + tokens("bob") + tokens("ok"), estimate.exact());
    }

    @Test
    void theCheapPassReadsEscapedTextAsTheTokenizerDoes() {
        TokenEstimate estimate = estimator.estimate(context(Endpoint.EMBEDDINGS,
                "{\"input\":\"tab\\there \\u00e9 \\ud83d\\udc4d \\\"q\\\"\"}"));

        String text = "tab\there é 👍 \"q\"";
        assertEquals(utf8(text), estimate.bound());
        assertEquals(tokens(text), estimate.exact());
    }

    @Test
    void theCheapPassCountsToolsAndTokenIdsLikeTheExactOne() {
        String tools = "{\"model\":\"m\",\"messages\":[],\"tools\":[{\"type\":\"function\",\"function\":"
                       + "{\"name\":\"get_weather\",\"description\":\"Returns the weather for a city\"}}]}";
        String ids = "{\"model\":\"m\",\"prompt\":[[1,2,3],[4,5]],\"max_tokens\":1}";

        TokenEstimate withTools = estimator.estimate(context(Endpoint.CHAT_COMPLETIONS, tools));
        TokenEstimate withIds = estimator.estimate(context(Endpoint.COMPLETIONS, ids));

        long toolBytes = utf8("function") + utf8("get_weather") + utf8("Returns the weather for a city");
        assertEquals(toolBytes + DEFAULT, withTools.bound(), "no messages: no framing");
        assertEquals(estimate(Endpoint.CHAT_COMPLETIONS, tools), withTools.exact());
        assertEquals(5 + 1, withIds.cheap(), "token ids are exact in every tier");
        assertEquals(5 + 1, withIds.bound());
    }

    @Test
    void aBodyThatIsNotARequestIsEstimatedExactlyFromItsLength() {
        String notAnObject = "[\"not\",\"a\",\"request\"]";
        String truncated = "{\"messages\":[{\"content\":\"hello";
        AtomicInteger tokenized = new AtomicInteger();
        PromptTokenEstimator counting = new PromptTokenEstimator(DEFAULT, PromptTokenEstimator.TOKENIZE_BUDGET_CHARS,
                                                                 text -> tokenized.incrementAndGet());

        TokenEstimate array = counting.estimate(context(Endpoint.CHAT_COMPLETIONS, notAnObject));
        TokenEstimate broken = counting.estimate(context(Endpoint.CHAT_COMPLETIONS, truncated));

        assertEquals(notAnObject.length() / 4 + DEFAULT, array.cheap());
        assertTrue(array.exactKnown());
        assertEquals(array.cheap(), array.bound());
        assertEquals(truncated.length() / 4 + DEFAULT, broken.exact());
        assertTrue(broken.exactKnown(), "the exact pass would break at the same place");
        assertEquals(0, tokenized.get());
    }

    @Test
    void estimatesWithoutTokenizingUntilTheExactFigureIsAskedFor() {
        AtomicInteger tokenized = new AtomicInteger();
        PromptTokenEstimator counting = new PromptTokenEstimator(DEFAULT, PromptTokenEstimator.TOKENIZE_BUDGET_CHARS,
                                                                 text -> {
                                                                     tokenized.incrementAndGet();
                                                                     return CL100K.countTokensOrdinary(text);
                                                                 });
        TokenEstimate estimate = counting.estimate(context(Endpoint.CHAT_COMPLETIONS,
                "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"What is a token bucket?\"}]}"));

        int beforeExact = tokenized.get();
        boolean knownBefore = estimate.exactKnown();
        long exact = estimate.exact();
        long again = estimate.exact();

        assertEquals(0, beforeExact);
        assertEquals(tokens("What is a token bucket?") + FRAMING + PRIMING + DEFAULT, exact);
        assertEquals(exact, again);
        assertEquals(1, tokenized.get(), "computed once, then remembered");
        assertFalse(knownBefore);
        assertTrue(estimate.exactKnown());
    }

    @Test
    void capsAnAbsurdCompletionAllowanceRatherThanOverflowing() {
        long estimate = estimate(Endpoint.COMPLETIONS,
                                 "{\"model\":\"m\",\"prompt\":[1],\"n\":128,\"max_tokens\":9223372036854775807}");

        assertEquals(1 + 128 * PromptTokenEstimator.MAX_COMPLETION_TOKENS, estimate);
    }

    private long estimate(Endpoint endpoint, String body) {
        return estimator.exact(RateLimitTesting.raw(endpoint, body, RequestExecutor.DIRECT));
    }

    private static RequestContext context(Endpoint endpoint, String body) {
        return RateLimitTesting.raw(endpoint, body, RequestExecutor.DIRECT);
    }

    private static long utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }

    private static long tokens(String text) {
        return CL100K.countTokensOrdinary(text);
    }

    @Test
    void tokenizesAPromptWithALoneSurrogateEscapeWithinItsBound() {
        // JSON may carry a lone surrogate; the tokenizer asserts on one, and these tests run with assertions on.
        String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi \\ud800 there\"}]}";
        TokenEstimate estimate = estimator.estimate(RateLimitTesting.raw(Endpoint.CHAT_COMPLETIONS, body,
                                                                         RequestExecutor.DIRECT));

        long exact = estimate.exact();

        assertTrue(exact >= 1 && exact <= estimate.bound(), exact + " within " + estimate.bound());
    }
}
