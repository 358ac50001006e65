package dev.detour.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.api.Endpoint;
import dev.detour.api.RequestSniffer;
import dev.detour.config.ConfigLoader;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestBody;
import dev.detour.filter.RequestContext;
import dev.detour.keys.KeyState;
import dev.detour.provider.UpstreamTransport;
import dev.detour.testing.FakeClock;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The context-window check through the dispatch filter, with a recording transport and a fake clock: a prompt
 * the catalog says cannot fit is never sent, and goes to the context fallback or back to the client as
 * {@code context_length_exceeded}. Window sizes come from the config's {@code models} overrides.
 */
class ContextWindowCheckTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONFIG = """
            providers:
              a:
                type: openai
                base-url: https://a.example/v1
                keys: [{id: a1, value: sk-aaaaaaaaaaaa1}]
              big:
                type: openai
                base-url: https://big.example/v1
                keys: [{id: b1, value: sk-bbbbbbbbbbbb1}]
            models:
              - {family: openai, id: small-model, context-window: 1000, max-output-tokens: 100}
              - {family: openai, id: big-model, context-window: 100000, max-output-tokens: 4096}
              - {family: openai, id: uncapped-model, context-window: 1000}
            routes:
              - model: m
                max-wait: 0s
                targets: [{provider: a, model: small-model}]
                context-fallback: {provider: big, model: big-model}
              - model: alone
                targets: [{provider: a, model: small-model}]
              - model: no-context-retry
                retry-on: [rate-limit]
                targets: [{provider: a, model: small-model}]
                context-fallback: {provider: big, model: big-model}
              - model: uncapped
                targets: [{provider: a, model: uncapped-model}]
              - model: unknown
                targets: [{provider: a, model: a-model-nobody-knows}]
              - model: params
                targets: [{provider: a, model: small-model, params: {max_tokens: 950}}]
              - model: big-only
                max-wait: 0s
                targets: [{provider: big, model: big-model}]
            """;

    private final FakeClock clock = new FakeClock();
    private final List<String> sent = new ArrayList<>();
    private final Map<String, GatewayResponse> answers = new HashMap<>();
    private final UpstreamTransport transport = (ctx, request) -> {
        String who = request.provider().name() + "/" + request.key().id();
        sent.add(who);
        return CompletableFuture.completedFuture(answers.getOrDefault(who, ok()));
    };
    private RouteTable table;
    private DispatchFilter filter;
    private int bodyReads;
    private RequestContext lastContext;

    @BeforeEach
    void setUp() throws Exception {
        table = RouteTable.of(ConfigLoader.parse(CONFIG, "test.yaml", Map.of()), 0, clock);
        filter = new DispatchFilter(transport, clock);
    }

    @Test
    void sendsAPromptThatFits() throws Exception {
        GatewayResponse r = chat("m", text(100), "");

        assertEquals(200, r.status());
        assertEquals(List.of("a/a1"), sent);
    }

    @Test
    void sendsATooLongPromptToTheContextFallbackWithoutTryingTheSmallModel() throws Exception {
        GatewayResponse r = chat("m", text(5000), "");

        assertEquals(200, r.status());
        assertEquals(List.of("big/b1"), sent, "about 1250 tokens never reach the 1000-token model");
        assertEquals(KeyState.AVAILABLE, table.pools().get("a").key("a1").state(clock.nanoTime()),
                     "the small model's key was not used");
    }

    @Test
    void answersContextLengthExceededWithoutSendingWhenThereIsNoFallback() throws Exception {
        GatewayResponse r = chat("alone", text(5000), "");

        assertEquals(400, r.status());
        assertEquals(List.of(), sent);
        JsonNode error = errorOf(r);
        assertEquals("invalid_request_error", error.get("type").asText());
        assertEquals("context_length_exceeded", error.get("code").asText());
        assertEquals("messages", error.get("param").asText());
        String message = error.get("message").asText();
        assertTrue(message.contains("model 'small-model' at provider 'a', 1000 tokens"), message);
        assertTrue(message.contains("about 1251 in the prompt"), message);
    }

    @Test
    void countsOnlyTheAttemptThatWasSent() throws Exception {
        chat("m", text(5000), "");

        assertEquals(1, lastContext.attempts(), "the refused small model is no attempt (x-detour-attempts)");
        assertEquals("big", lastContext.provider());
        assertEquals("big-model", lastContext.upstreamModel());
    }

    @Test
    void countsNoAttemptWhenNothingWasSent() throws Exception {
        chat("alone", text(5000), "");

        assertEquals(0, lastContext.attempts());
        assertEquals("-", lastContext.provider(), "no upstream was involved");
    }

    @Test
    void answersTheRefusalWhenTheRouteDoesNotRetryContextErrors() throws Exception {
        GatewayResponse r = chat("no-context-retry", text(5000), "");

        assertEquals(400, r.status());
        assertEquals(List.of(), sent, "retry-on leaves context-length out: no move to the fallback");
    }

    @Test
    void refusesAtTheFallbackTooWhenEvenItsWindowIsTooSmall() throws Exception {
        GatewayResponse r = chat("m", text(500_000), "");

        assertEquals(400, r.status());
        assertEquals(List.of(), sent);
        assertTrue(errorOf(r).get("message").asText().contains("model 'big-model' at provider 'big', 100000 tokens"));
    }

    @Test
    void answersItsOwnRefusalWhenTheFallbackCannotServeNow() throws Exception {
        answers.put("big/b1", error(429, "rate_limit_exceeded", "retry-after", "20"));
        chat("big-only", text(10), "");
        sent.clear();

        GatewayResponse r = chat("m", text(5000), "");

        assertEquals(400, r.status());
        assertEquals(List.of(), sent);
        assertEquals("context_length_exceeded", errorOf(r).get("code").asText());
        assertTrue(errorOf(r).get("message").asText().contains("small-model"), "Detour's refusal, not re-parsed");
    }

    @Test
    void countsTheCompletionTheClientAsksFor() throws Exception {
        GatewayResponse fits = chat("uncapped", text(400), ", \"max_tokens\": 800");
        GatewayResponse tooMuch = chat("uncapped", text(400), ", \"max_tokens\": 10, \"max_completion_tokens\": 950");

        assertEquals(200, fits.status());
        assertEquals(400, tooMuch.status(), "max_completion_tokens wins over max_tokens");
        assertTrue(errorOf(tooMuch).get("message").asText().contains("950 for the completion"));
    }

    @Test
    void leavesACompletionAboveTheModelsOutputCapToTheProvider() throws Exception {
        GatewayResponse r = chat("alone", text(400), ", \"max_tokens\": 950");

        assertEquals(200, r.status(), "small-model writes at most 100 tokens: the provider refuses 950 its own way");
        assertEquals(0, bodyReads);
    }

    @Test
    void countsTheCompletionTheTargetParamsSet() throws Exception {
        GatewayResponse r = chat("params", text(400), ", \"max_tokens\": 10");

        assertEquals(400, r.status());
        assertEquals(List.of(), sent);
    }

    @Test
    void leavesAPromptNearTheLimitToTheProvider() throws Exception {
        GatewayResponse r = chat("alone", text(4200), "");

        assertEquals(200, r.status(), "about 1050 tokens is within the tenth the estimate may be off");
        assertEquals(List.of("a/a1"), sent);
    }

    @Test
    void doesNotCountImagesOrDataUrls() throws Exception {
        String image = "data:image/png;base64," + "A".repeat(200_000);
        String messages = "[{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"What is this?\"},"
                          + " {\"type\": \"image_url\", \"image_url\": {\"url\": \"" + image + "\"}}]},"
                          + " {\"role\": \"user\", \"content\": \"" + image + "\"}]";

        GatewayResponse r = dispatch(Endpoint.CHAT_COMPLETIONS,
                                     "{\"model\": \"alone\", \"messages\": " + messages + "}");

        assertEquals(200, r.status());
    }

    @Test
    void countsToolDefinitionsAsPrompt() throws Exception {
        String tools = ", \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"description\": \""
                       + "d".repeat(4000) + "\"}}]";

        GatewayResponse r = chat("alone", text(1000), tools);

        assertEquals(400, r.status());
    }

    @Test
    void countsTokenIdsOfALegacyPrompt() throws Exception {
        StringBuilder ids = new StringBuilder("[1");
        for (int i = 1; i < 1200; i++) {
            ids.append(',').append(i % 50_000);
        }
        ids.append(']');

        GatewayResponse r = dispatch(Endpoint.COMPLETIONS, "{\"model\": \"alone\", \"prompt\": " + ids + "}");

        assertEquals(400, r.status());
    }

    @Test
    void sendsWhatTheCatalogDoesNotKnow() throws Exception {
        GatewayResponse r = chat("unknown", text(500_000), "");

        assertEquals(200, r.status());
        assertEquals(List.of("a/a1"), sent);
    }

    @Test
    void neverChecksEmbeddings() throws Exception {
        GatewayResponse r = dispatch(Endpoint.EMBEDDINGS,
                                     "{\"model\": \"alone\", \"input\": \"" + "x".repeat(50_000) + "\"}");

        assertEquals(200, r.status());
    }

    @Test
    void readsTheBodyOnlyWhenItCouldBeTooLong() throws Exception {
        chat("alone", text(200), "");
        assertEquals(0, bodyReads, "a short body cannot overflow: it is not parsed");

        chat("m", text(5000), "");
        assertEquals(1, bodyReads, "parsed once, though two targets were checked");
    }

    @Test
    void keepsTheKeyAndTheBreakerUntouchedByARefusal() throws Exception {
        for (int i = 0; i < 10; i++) {
            assertEquals(400, chat("alone", text(5000), "").status());
        }

        Target small = table.route("alone").targets().get(0);
        assertTrue(small.breaker().allows(clock.nanoTime()), "refusals are no failures of the target");
        assertEquals(KeyState.AVAILABLE, table.pools().get("a").key("a1").state(clock.nanoTime()));
        assertSame(table.catalog().find("openai", "small-model").orElseThrow(), small.modelInfo().orElseThrow());
    }

    // --- helpers ---

    private static String text(int chars) {
        return "w".repeat(chars);
    }

    private GatewayResponse chat(String model, String userText, String extraFields) throws Exception {
        return dispatch(Endpoint.CHAT_COMPLETIONS, "{\"model\": \"" + model + "\", \"messages\": [{\"role\": \"user\","
                                                   + " \"content\": \"" + userText + "\"}]" + extraFields + "}");
    }

    private GatewayResponse dispatch(Endpoint endpoint, String body) throws Exception {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        var sniffed = RequestSniffer.sniff(new ByteArrayInputStream(bytes));
        RequestContext ctx = new RequestContext("req_1", endpoint, name -> null, new RequestBody() {
            @Override
            public int length() {
                return bytes.length;
            }

            @Override
            public InputStream newInputStream() {
                bodyReads++;
                return new ByteArrayInputStream(bytes);
            }
        }, sniffed, table.route(sniffed.model()), clock.executor(), clock.nanoTime());
        lastContext = ctx;
        CompletableFuture<GatewayResponse> f =
                filter.filter(ctx, c -> { throw new AssertionError("dispatch is terminal"); }).toCompletableFuture();
        assertTrue(f.isDone(), "nothing here waits");
        return f.getNow(null);
    }

    private static GatewayResponse.Full ok() {
        return new GatewayResponse.Full(200, Headers.of("content-type", "application/json"),
                                        "{\"id\":\"x\"}".getBytes(StandardCharsets.UTF_8));
    }

    private static GatewayResponse.Full error(int status, String code, String... headers) {
        byte[] body = ("{\"error\":{\"message\":\"m\",\"type\":\"t\",\"param\":null,\"code\":\"" + code + "\"}}")
                .getBytes(StandardCharsets.UTF_8);
        return new GatewayResponse.Full(status, Headers.of(headers).with("content-type", "application/json"), body);
    }

    private static JsonNode errorOf(GatewayResponse r) throws Exception {
        return JSON.readTree(((GatewayResponse.Full) r).body()).get("error");
    }
}
