package dev.detour.provider.gemini;

import static dev.detour.provider.gemini.GeminiFixtures.KEY;
import static dev.detour.provider.gemini.GeminiFixtures.assertJsonEquals;
import static dev.detour.provider.gemini.GeminiFixtures.context;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.api.Endpoint;
import dev.detour.api.InvalidRequestException;
import dev.detour.config.ProviderType;
import dev.detour.filter.RequestContext;
import dev.detour.provider.ProviderAdapters;
import dev.detour.provider.UpstreamBody;
import dev.detour.provider.UpstreamRequest;
import dev.detour.routing.Target;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class GeminiAdapterTest {

    private static final GeminiAdapter ADAPTER = new GeminiAdapter(GeminiFixtures.CLOCK);
    private static final String HELLO = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";

    @Test
    void isRegisteredForTheGeminiDialect() {
        assertSame(GeminiAdapter.INSTANCE, ProviderAdapters.forType(ProviderType.GEMINI));
    }

    @ParameterizedTest
    @ValueSource(strings = {"chat-text", "chat-system-multiturn", "chat-images", "chat-tools-roundtrip",
                            "chat-tool-choice-named", "chat-json-schema", "completion-prompt", "embed-strings",
                            "embed-string"})
    void translatesRequestLikeGoldenFixture(String name) throws Exception {
        Endpoint endpoint = name.startsWith("chat") ? Endpoint.CHAT_COMPLETIONS
                            : name.startsWith("completion") ? Endpoint.COMPLETIONS : Endpoint.EMBEDDINGS;
        RequestContext ctx = context(endpoint, GeminiFixtures.text("requests/" + name + ".openai.json"));

        UpstreamRequest request = prepare(ctx);

        byte[] body = assertInstanceOf(UpstreamBody.Replace.class, request.body()).bytes();
        assertJsonEquals(GeminiFixtures.bytes("requests/" + name + ".gemini.json"), body, name);
    }

    @Test
    void postsChatToGenerateContentWithKeyInHeaderOnly() throws Exception {
        UpstreamRequest request = prepare(context(Endpoint.CHAT_COMPLETIONS, "{\"model\":\"flash\"," + HELLO + "}"));

        assertEquals("/v1beta/models/gemini-2.5-flash:generateContent", request.path());
        assertEquals(KEY, request.headers().get("x-goog-api-key"));
        assertEquals("application/json", request.headers().get("content-type"));
        assertEquals("application/json", request.headers().get("accept"));
        assertEquals("proj-1", request.headers().get("x-goog-user-project"), "the provider's extra headers");
        assertNull(request.headers().get("authorization"));
        assertFalse(request.path().contains("key="), request.path());
        assertFalse(request.stream());
        assertTrue(request.translated());
    }

    @Test
    void streamsChatThroughStreamGenerateContentWithSse() throws Exception {
        UpstreamRequest request = prepare(context(Endpoint.CHAT_COMPLETIONS,
                                                  "{\"model\":\"flash\",\"stream\":true," + HELLO + "}"));

        assertEquals("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", request.path());
        assertEquals("text/event-stream", request.headers().get("accept"));
        assertTrue(request.stream());
    }

    @Test
    void doesNotDoubleTheModelsPrefix() throws Exception {
        UpstreamRequest request = prepare(context(Endpoint.CHAT_COMPLETIONS, "{\"model\":\"prefixed\"," + HELLO + "}"));

        assertEquals("/v1beta/models/gemini-2.5-pro:generateContent", request.path());
    }

    @Test
    void keepsTunedModelResourceNames() throws Exception {
        UpstreamRequest request = prepare(context(Endpoint.CHAT_COMPLETIONS, "{\"model\":\"tuned\"," + HELLO + "}"));

        assertEquals("/v1beta/tunedModels/my-tuned-1:generateContent", request.path());
    }

    @Test
    void percentEncodesModelNamesUnderTheBasePath() throws Exception {
        UpstreamRequest request = prepare(context(Endpoint.CHAT_COMPLETIONS, "{\"model\":\"odd\"," + HELLO + "}"));

        assertEquals("/google/v1beta/models/my%20model%2Fv1%3Abeta%20%C3%A9:generateContent", request.path());
    }

    @Test
    void postsEmbeddingsToBatchEmbedContents() throws Exception {
        UpstreamRequest request = prepare(context(Endpoint.EMBEDDINGS, "{\"model\":\"embed\",\"input\":\"a\"}"));

        assertEquals("/v1beta/models/gemini-embedding-001:batchEmbedContents", request.path());
        assertFalse(request.stream());
    }

    @Test
    void keepsTheKeyOutOfToString() throws Exception {
        UpstreamRequest request = prepare(context(Endpoint.CHAT_COMPLETIONS, "{\"model\":\"flash\"," + HELLO + "}"));

        assertFalse(request.toString().contains(KEY), request.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"model\":\"flash\",\"n\":2," + HELLO + "}|n",
        "{\"model\":\"flash\",\"modalities\":[\"text\",\"audio\"]," + HELLO + "}|modalities",
        "{\"model\":\"flash\",\"tools\":[{\"type\":\"custom\",\"custom\":{\"name\":\"x\"}}]," + HELLO + "}|tools[0].type",
        "{\"model\":\"flash\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
        + "\"image_url\":{\"url\":\"https://example.com/image\"}}]}]}|messages[0].content[0].image_url.url",
        "{\"model\":\"flash\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
        + "\"image_url\":{\"url\":\"data:image/png,rawbytes\"}}]}]}|messages[0].content[0].image_url.url",
        "{\"model\":\"flash\",\"messages\":[{\"role\":\"tool\",\"tool_call_id\":\"call_9\",\"content\":\"x\"}]}"
        + "|messages[0].tool_call_id",
        "{\"model\":\"flash\",\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\","
        + "\"function\":{\"name\":\"f\",\"arguments\":\"{not json\"}}]}]}|messages[0].tool_calls[0].function.arguments",
        "{\"model\":\"flash\",\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\","
        + "\"function\":{\"name\":\"f\",\"arguments\":\"[1]\"}}]}]}|messages[0].tool_calls[0].function.arguments",
        "{\"model\":\"flash\",\"messages\":[{\"role\":\"narrator\",\"content\":\"x\"}]}|messages[0].role",
        "{\"model\":\"flash\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"file\","
        + "\"file\":{\"file_id\":\"file-1\"}}]}]}|messages[0].content[0].file",
        "{\"model\":\"flash\",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"n\","
        + "\"schema\":{\"$defs\":{\"N\":{\"type\":\"object\",\"properties\":{\"next\":{\"$ref\":\"#/$defs/N\"}}}},"
        + "\"$ref\":\"#/$defs/N\"}}}," + HELLO + "}|response_format.json_schema.schema"})
    void refusesChatRequestsGeminiCannotServe(String caseAndParam) {
        String[] split = caseAndParam.split("\\|");
        RequestContext ctx = context(Endpoint.CHAT_COMPLETIONS, split[0]);

        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> prepare(ctx));

        assertEquals(split[1], e.param(), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"model\":\"flash\",\"prompt\":[1,2,3]}|prompt",
        "{\"model\":\"flash\",\"prompt\":[\"a\",\"b\"]}|prompt",
        "{\"model\":\"flash\",\"prompt\":\"a\",\"echo\":true}|echo",
        "{\"model\":\"flash\",\"prompt\":\"a\",\"suffix\":\"z\"}|suffix",
        "{\"model\":\"flash\",\"prompt\":\"a\",\"best_of\":3}|best_of",
        "{\"model\":\"flash\",\"prompt\":\"a\",\"n\":2}|n"})
    void refusesCompletionRequestsGeminiCannotServe(String caseAndParam) {
        String[] split = caseAndParam.split("\\|");
        RequestContext ctx = context(Endpoint.COMPLETIONS, split[0]);

        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> prepare(ctx));

        assertEquals(split[1], e.param(), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"model\":\"embed\",\"input\":[1,2,3]}", "{\"model\":\"embed\",\"input\":[[1,2],[3]]}",
                            "{\"model\":\"embed\",\"input\":[]}", "{\"model\":\"embed\"}"})
    void refusesEmbeddingInputThatIsNotText(String body) {
        RequestContext ctx = context(Endpoint.EMBEDDINGS, body);

        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> prepare(ctx));

        assertEquals("input", e.param(), e.getMessage());
    }

    @Test
    void namesToolResultAfterTheLatestCallWithItsId() throws Exception {
        String body = "{\"model\":\"flash\",\"messages\":["
                      + "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"call_0\",\"type\":\"function\","
                      + "\"function\":{\"name\":\"first\",\"arguments\":\"{}\"}}]},"
                      + "{\"role\":\"tool\",\"tool_call_id\":\"call_0\",\"content\":\"42\"},"
                      + "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"call_0\",\"type\":\"function\","
                      + "\"function\":{\"name\":\"second\",\"arguments\":\"{}\"}}]},"
                      + "{\"role\":\"tool\",\"tool_call_id\":\"call_0\",\"content\":\"42 apples\"}]}";

        byte[] sent = ((UpstreamBody.Replace) prepare(context(Endpoint.CHAT_COMPLETIONS, body)).body()).bytes();

        String json = new String(sent, StandardCharsets.UTF_8);
        assertTrue(json.contains("{\"functionResponse\":{\"name\":\"first\",\"response\":{\"content\":42}}}"), json);
        assertTrue(json.contains("{\"functionResponse\":{\"name\":\"second\",\"response\":{\"content\":\"42 apples\"}}}"),
                   json);
    }

    @Test
    void offersOnlyAllowedToolsInAutoMode() throws Exception {
        String body = "{\"model\":\"flash\"," + HELLO + ",\"tools\":["
                      + "{\"type\":\"function\",\"function\":{\"name\":\"a\"}},"
                      + "{\"type\":\"function\",\"function\":{\"name\":\"b\"}}],"
                      + "\"tool_choice\":{\"type\":\"allowed_tools\",\"allowed_tools\":{\"mode\":\"auto\","
                      + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"b\"}}]}}}";

        byte[] sent = ((UpstreamBody.Replace) prepare(context(Endpoint.CHAT_COMPLETIONS, body)).body()).bytes();

        assertJsonEquals(("{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}],"
                          + "\"tools\":[{\"functionDeclarations\":[{\"name\":\"b\"}]}],"
                          + "\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"AUTO\"}}}")
                                 .getBytes(StandardCharsets.UTF_8), sent, "allowed tools");
    }

    @Test
    void reportsAStreamsUsageIntoTheContextWhenItIsNeeded() throws Exception {
        RequestContext ctx = context(Endpoint.CHAT_COMPLETIONS, "{\"model\":\"flash\",\"stream\":true," + HELLO + "}");
        ctx.needsUsage(true);
        UpstreamRequest request = prepare(ctx);
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        request.translator().translateStream(ByteBuffer.wrap(GeminiFixtures.bytes("streams/chat-text.gemini.sse")),
                                             out::write);
        request.translator().endStream(out::write);

        assertFalse(out.toString(StandardCharsets.UTF_8).contains("\"usage\""), "the client did not ask");
        assertEquals(97, ctx.usage().totalTokens());
    }

    private static UpstreamRequest prepare(RequestContext ctx) throws InvalidRequestException {
        Target target = ctx.route().targets().get(0);
        return ADAPTER.prepare(ctx, target, target.keys().next());
    }
}
