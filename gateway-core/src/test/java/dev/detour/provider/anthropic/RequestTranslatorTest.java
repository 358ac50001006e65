package dev.detour.provider.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.detour.api.Endpoint;
import dev.detour.api.InvalidRequestException;
import dev.detour.catalog.ModelCatalog;
import dev.detour.catalog.ModelInfo;
import dev.detour.filter.RequestContext;
import dev.detour.provider.UpstreamBody;
import dev.detour.provider.UpstreamRequest;
import dev.detour.routing.Target;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class RequestTranslatorTest {

    private static final AnthropicAdapter ADAPTER =
            AnthropicAdapter.of(Clock.fixed(Instant.ofEpochSecond(1_763_700_000L), ZoneOffset.UTC));

    static Stream<String> goldens() {
        return Fixtures.names("requests", ".openai.json");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldens")
    void translatesRequestAsInGoldenFile(String name) throws Exception {
        String request = Fixtures.text("requests/" + name + ".openai.json");
        Endpoint endpoint = name.startsWith("completion-") ? Endpoint.COMPLETIONS : Endpoint.CHAT_COMPLETIONS;

        JsonNode sent = Fixtures.tree(body(Contexts.of(endpoint, request)));

        assertEquals(Fixtures.json("requests/" + name + ".anthropic.json"), sent);
    }

    @Test
    void suppliesTheCatalogsOutputCapAsDefaultMaxTokensUpToTheLimit() throws Exception {
        JsonNode sent = Fixtures.tree(body(Contexts.chat("{\"model\":\"claude\",\"messages\":[]}")));

        assertEquals(8192, sent.get("max_tokens").asInt(), "claude-sonnet-4-5 caps output at 64000: capped");
        assertEquals(RequestTranslator.MAX_DEFAULT_MAX_TOKENS, sent.get("max_tokens").asInt());
    }

    @Test
    void defaultsMaxTokensFromTheCatalogRow() {
        ModelCatalog catalog = ModelCatalog.builtin();

        assertEquals(4096, RequestTranslator.defaultMaxTokens(catalog.find("anthropic", "claude-3-haiku-20240307")));
        assertEquals(8192, RequestTranslator.defaultMaxTokens(catalog.find("anthropic", "claude-3-5-haiku")));
        assertEquals(8192, RequestTranslator.defaultMaxTokens(catalog.find("anthropic", "claude-opus-4-1")));
        assertEquals(2000, RequestTranslator.defaultMaxTokens(Optional.of(
                ModelInfo.of("anthropic", "claude-small", 100_000, 2000, "1", "1", Set.of()))));
        assertEquals(RequestTranslator.DEFAULT_MAX_TOKENS, RequestTranslator.defaultMaxTokens(Optional.empty()));
    }

    @Test
    void defaultsMaxTokensFromAConfigOverride() throws Exception {
        RequestContext ctx = Contexts.chat("{\"model\":\"capped\",\"messages\":[]}");

        assertEquals(1024, Fixtures.tree(body(ctx)).get("max_tokens").asInt());
    }

    @Test
    void prefersMaxCompletionTokensOverMaxTokens() throws Exception {
        JsonNode sent = Fixtures.tree(body(Contexts.chat(
                "{\"model\":\"claude\",\"max_tokens\":10,\"max_completion_tokens\":20,\"messages\":[]}")));

        assertEquals(20, sent.get("max_tokens").asInt());
    }

    @Test
    void putsToolResultsBeforeTextOfTheSameUserTurn() throws Exception {
        String request = """
                {"model": "claude", "messages": [
                  {"role": "assistant", "tool_calls": [{"id": "t1", "type": "function",
                    "function": {"name": "f", "arguments": "{}"}}]},
                  {"role": "tool", "tool_call_id": "t1", "content": "one"},
                  {"role": "user", "content": "and then"},
                  {"role": "tool", "tool_call_id": "t2", "content": "two"}]}
                """;

        JsonNode content = Fixtures.tree(body(Contexts.chat(request))).at("/messages/1/content");

        assertEquals("t1", content.at("/0/tool_use_id").asText());
        assertEquals("t2", content.at("/1/tool_use_id").asText());
        assertEquals("and then", content.at("/2/text").asText());
    }

    @Test
    void sendsPlainTextContentAsAStringAndSeveralBlocksAsAnArray() throws Exception {
        String request = """
                {"model": "claude", "messages": [{"role": "user", "content": [{"type": "text", "text": "a"}]},
                  {"role": "assistant", "content": "b"}, {"role": "assistant", "content": "c"}]}
                """;

        JsonNode messages = Fixtures.tree(body(Contexts.chat(request))).get("messages");

        assertTrue(messages.at("/0/content").isTextual(), messages.toString());
        assertEquals(2, messages.at("/1/content").size(), messages.toString());
    }

    @Test
    void marksStreamAndRemembersIncludeUsageOnlyForStreams() throws Exception {
        String request = "{\"model\":\"claude\",\"messages\":[],\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
        RequestContext ctx = Contexts.chat(request);

        UpstreamRequest prepared = ADAPTER.prepare(ctx, Contexts.target(ctx), Contexts.target(ctx).keys().next());

        assertTrue(Fixtures.tree(((UpstreamBody.Replace) prepared.body()).bytes()).get("stream").asBoolean());
        assertTrue(prepared.stream());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "n|{\"model\":\"claude\",\"messages\":[],\"n\":2}",
        "response_format|{\"model\":\"claude\",\"messages\":[],\"response_format\":{\"type\":\"json_object\"}}",
        "response_format|{\"model\":\"claude\",\"messages\":[],\"response_format\":{\"type\":\"json_schema\","
        + "\"json_schema\":{\"name\":\"a\",\"schema\":{}}}}",
        "functions|{\"model\":\"claude\",\"messages\":[],\"functions\":[{\"name\":\"f\"}]}",
        "audio|{\"model\":\"claude\",\"messages\":[],\"audio\":{\"voice\":\"alloy\",\"format\":\"mp3\"}}",
        "modalities|{\"model\":\"claude\",\"messages\":[],\"modalities\":[\"text\",\"audio\"]}",
        "messages|{\"model\":\"claude\"}",
        "messages[0].role|{\"model\":\"claude\",\"messages\":[{\"role\":\"critic\",\"content\":\"x\"}]}",
        "messages[0].role|{\"model\":\"claude\",\"messages\":[{\"role\":\"function\",\"name\":\"f\",\"content\":\"x\"}]}",
        "messages[0].content[0].type|{\"model\":\"claude\",\"messages\":[{\"role\":\"user\",\"content\":"
        + "[{\"type\":\"input_audio\",\"input_audio\":{\"data\":\"AAA\",\"format\":\"wav\"}}]}]}",
        "messages[0].content[0].image_url.url|{\"model\":\"claude\",\"messages\":[{\"role\":\"user\",\"content\":"
        + "[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/svg+xml,%3Csvg%3E\"}}]}]}",
        "messages[0].content[0].image_url.url|{\"model\":\"claude\",\"messages\":[{\"role\":\"user\",\"content\":"
        + "[{\"type\":\"image_url\",\"image_url\":{\"url\":\"ftp://example.com/a.png\"}}]}]}",
        "messages[0].tool_calls[0].function.arguments|{\"model\":\"claude\",\"messages\":[{\"role\":\"assistant\","
        + "\"tool_calls\":[{\"id\":\"t\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":\"}}]}]}",
        "messages[0].tool_calls[0].function.arguments|{\"model\":\"claude\",\"messages\":[{\"role\":\"assistant\","
        + "\"tool_calls\":[{\"id\":\"t\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"[1]\"}}]}]}",
        "messages[0].tool_call_id|{\"model\":\"claude\",\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}",
        "max_tokens|{\"model\":\"claude\",\"messages\":[],\"max_tokens\":0}",
        "max_completion_tokens|{\"model\":\"claude\",\"messages\":[],\"max_completion_tokens\":\"many\"}",
        "temperature|{\"model\":\"claude\",\"messages\":[],\"temperature\":\"hot\"}",
        "stop|{\"model\":\"claude\",\"messages\":[],\"stop\":[1]}",
        "tools[0].type|{\"model\":\"claude\",\"messages\":[],\"tools\":[{\"type\":\"custom\",\"custom\":{\"name\":\"x\"}}]}",
        "tool_choice|{\"model\":\"claude\",\"messages\":[],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],"
        + "\"tool_choice\":{\"type\":\"allowed_tools\",\"allowed_tools\":{\"mode\":\"auto\",\"tools\":[]}}}",
    })
    void refusesWhatAnthropicCannotServeNamingTheField(String testCase) {
        String param = testCase.substring(0, testCase.indexOf('|'));
        String request = testCase.substring(testCase.indexOf('|') + 1);
        RequestContext ctx = Contexts.chat(request);

        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> ADAPTER.prepare(ctx, Contexts.target(ctx), Contexts.target(ctx).keys().next()));

        assertEquals(param, e.param(), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "prompt|{\"model\":\"claude\",\"prompt\":[\"a\",\"b\"]}",
        "prompt|{\"model\":\"claude\",\"prompt\":[1,2,3]}",
        "prompt|{\"model\":\"claude\",\"prompt\":\"\"}",
        "echo|{\"model\":\"claude\",\"prompt\":\"a\",\"echo\":true}",
        "suffix|{\"model\":\"claude\",\"prompt\":\"a\",\"suffix\":\"z\"}",
        "best_of|{\"model\":\"claude\",\"prompt\":\"a\",\"best_of\":3}",
        "n|{\"model\":\"claude\",\"prompt\":\"a\",\"n\":2}",
    })
    void refusesLegacyCompletionFeaturesNamingTheField(String testCase) {
        String param = testCase.substring(0, testCase.indexOf('|'));
        RequestContext ctx = Contexts.of(Endpoint.COMPLETIONS, testCase.substring(testCase.indexOf('|') + 1));

        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> ADAPTER.prepare(ctx, Contexts.target(ctx), Contexts.target(ctx).keys().next()));

        assertEquals(param, e.param(), e.getMessage());
    }

    @Test
    void explainsRefusedStructuredOutputWithProviderName() {
        RequestContext ctx = Contexts.chat("{\"model\":\"claude\",\"messages\":[],"
                                           + "\"response_format\":{\"type\":\"json_schema\"}}");

        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> ADAPTER.prepare(ctx, Contexts.target(ctx), Contexts.target(ctx).keys().next()));

        assertTrue(e.getMessage().contains("json_schema") && e.getMessage().contains("'claude' (anthropic)"),
                   e.getMessage());
        assertEquals("unsupported_parameter", e.code());
    }

    private static byte[] body(RequestContext ctx) throws InvalidRequestException {
        Target target = Contexts.target(ctx);
        UpstreamRequest r = ADAPTER.prepare(ctx, target, target.keys().next());
        return ((UpstreamBody.Replace) r.body()).bytes();
    }
}
