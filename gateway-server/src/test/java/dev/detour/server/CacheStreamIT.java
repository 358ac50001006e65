package dev.detour.server;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.openai.client.OpenAIClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionUsage;
import dev.detour.server.testing.Eventually;
import dev.detour.server.testing.TestGateway;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Streams and the response cache, checked with the official OpenAI Java SDK: a stream captured as it passes
 * is replayed as a stream and as JSON, a JSON answer is replayed as a stream (with the usage chunk when asked
 * for), an upstream's streamed tool call is stored merged, and an answer over the entry size limit is not kept.
 */
class CacheStreamIT {

    private static final AtomicInteger PROMPTS = new AtomicInteger();
    private static final String HEAD = "{\"id\":\"chatcmpl-up\",\"object\":\"chat.completion.chunk\","
                                       + "\"created\":1763700000,\"model\":\"gpt-4o-mini\",";

    private static WireMockServer upstream;
    private static TestGateway gateway;
    private static OpenAIClient client;

    @BeforeAll
    static void start() {
        upstream = new WireMockServer(wireMockConfig().dynamicPort());
        upstream.start();
        gateway = TestGateway.start("""
                providers:
                  mock:
                    type: mock
                  openai:
                    type: openai
                    base-url: http://127.0.0.1:%d/v1
                    keys: [{id: k1, value: sk-test-1}]
                routes:
                  - model: mocked
                    targets: [{provider: mock}]
                    cache: {enabled: true}
                  - model: wm
                    targets: [{provider: openai, model: gpt-4o-mini}]
                    cache: {enabled: true}
                  - model: small
                    targets: [{provider: openai, model: gpt-4o-small}]
                    cache: {enabled: true, max-entry-size: 200}
                """.formatted(upstream.port()));
        client = gateway.openAiClient();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (gateway != null) {
            gateway.close();
        }
        if (upstream != null) {
            upstream.stop();
        }
    }

    @Test
    void replaysACapturedStreamAsAStreamAndAsJson() {
        ChatCompletionCreateParams params = chat("mocked").build();

        Streamed first = stream(params);
        Streamed second = stream(params);
        HttpResponseFor<ChatCompletion> json = client.chat().completions().withRawResponse().create(params);

        assertEquals("MISS", first.cache);
        assertEquals("HIT", second.cache);
        assertEquals(first.text(), second.text());
        assertTrue(first.text().contains("You said: "), first.text());
        assertEquals(first.chunks.get(0).id(), second.chunks.get(0).id(), "the same answer");
        assertEquals(Optional.of(ChatCompletionChunk.Choice.FinishReason.STOP),
                     second.chunks.get(second.chunks.size() - 1).choices().get(0).finishReason());
        assertEquals("HIT", json.headers().values("x-detour-cache").get(0));
        ChatCompletion completion = json.parse();
        assertEquals(first.text(), completion.choices().get(0).message().content().orElseThrow());
        assertTrue(completion.usage().orElseThrow().totalTokens() > 0, "the stored stream kept its usage");
    }

    @Test
    void replaysACachedJsonAnswerAsAStreamWithUsageWhenAskedFor() {
        ChatCompletionCreateParams params = chat("mocked").build();
        ChatCompletion completion = client.chat().completions().create(params);

        Streamed plain = stream(params);
        Streamed withUsage = stream(params.toBuilder()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build());

        assertEquals("HIT", plain.cache);
        assertEquals(completion.choices().get(0).message().content().orElseThrow(), plain.text());
        assertTrue(plain.chunks.stream().allMatch(c -> c.usage().isEmpty()), "no usage chunk unless asked for");
        assertEquals("HIT", withUsage.cache);
        ChatCompletionChunk last = withUsage.chunks.get(withUsage.chunks.size() - 1);
        assertTrue(last.choices().isEmpty());
        CompletionUsage usage = last.usage().orElseThrow();
        assertEquals(completion.usage().orElseThrow().totalTokens(), usage.totalTokens());
    }

    @Test
    void storesAnUpstreamsStreamedToolCallMerged() {
        String marker = "tool-" + PROMPTS.incrementAndGet();
        upstream.stubFor(post(urlEqualTo("/v1/chat/completions")).withRequestBody(containing(marker))
                .willReturn(aResponse().withHeader("content-type", "text/event-stream").withBody(
                        event("{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{"
                              + "\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":"
                              + "\"get_weather\",\"arguments\":\"\"}}]},\"finish_reason\":null}")
                        + event("{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
                                + "\"{\\\"city\\\":\"}}]},\"finish_reason\":null}")
                        + event("{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
                                + "\"\\\"Paris\\\"}\"}}]},\"finish_reason\":null}")
                        + event("{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}")
                        + "data: " + HEAD + "\"choices\":[],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":9,"
                        + "\"total_tokens\":29}}\n\n"
                        + "data: [DONE]\n\n")
                        .withChunkedDribbleDelay(4, 40)));
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("wm")
                .addUserMessage("weather? " + marker).build();

        Streamed first = stream(params);
        HttpResponseFor<ChatCompletion> json = client.chat().completions().withRawResponse().create(params);

        assertEquals("MISS", first.cache);
        assertEquals("HIT", json.headers().values("x-detour-cache").get(0));
        ChatCompletion completion = json.parse();
        ChatCompletion.Choice choice = completion.choices().get(0);
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason());
        ChatCompletionMessageFunctionToolCall call = choice.message().toolCalls().orElseThrow().get(0).asFunction();
        assertEquals("call_1", call.id());
        assertEquals("get_weather", call.function().name());
        assertEquals("{\"city\":\"Paris\"}", call.function().arguments());
        assertEquals(29, completion.usage().orElseThrow().totalTokens(),
                     "the usage chunk Detour asked for and hid from the client is kept with the answer");
        assertEquals(1, upstream.findAll(postRequestedFor(urlEqualTo("/v1/chat/completions"))
                .withRequestBody(containing(marker))).size());
    }

    @Test
    void doesNotKeepAnAnswerOverTheEntrySizeLimit() {
        String marker = "big-" + PROMPTS.incrementAndGet();
        upstream.stubFor(post(urlEqualTo("/v1/chat/completions")).withRequestBody(containing(marker))
                .willReturn(aResponse().withHeader("content-type", "application/json").withBody("""
                        {"id":"chatcmpl-big","object":"chat.completion","created":1763700000,"model":"gpt-4o-small",\
                        "choices":[{"index":0,"message":{"role":"assistant","content":"%s"},"logprobs":null,\
                        "finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":90,"total_tokens":93}}\
                        """.formatted("word ".repeat(60)))));
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("small")
                .addUserMessage(marker).build();
        long before = gateway.server().cache().stats().tooLarge();

        String first = client.chat().completions().withRawResponse().create(params).headers()
                .values("x-detour-cache").get(0);
        String second = client.chat().completions().withRawResponse().create(params).headers()
                .values("x-detour-cache").get(0);

        assertEquals("MISS", first);
        assertEquals("MISS", second);
        assertEquals(2, upstream.findAll(postRequestedFor(urlEqualTo("/v1/chat/completions"))
                .withRequestBody(containing(marker))).size());
        // The capture gives up on the answer once its last byte has passed, which may be after the client read it.
        Eventually.assertCount(before + 2, () -> gateway.server().cache().stats().tooLarge(), "answers too large");
    }

    private static ChatCompletionCreateParams.Builder chat(String model) {
        return ChatCompletionCreateParams.builder().model(model).addUserMessage("prompt " + PROMPTS.incrementAndGet());
    }

    private static String event(String choice) {
        return "data: " + HEAD + "\"choices\":[" + choice + "]}\n\n";
    }

    /** Sends a streaming request through the SDK; returns the cache header and the parsed chunks. */
    private static Streamed stream(ChatCompletionCreateParams params) {
        try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> raw =
                     client.chat().completions().withRawResponse().createStreaming(params);
             StreamResponse<ChatCompletionChunk> response = raw.parse()) {
            return new Streamed(raw.headers().values("x-detour-cache").get(0), response.stream().toList());
        }
    }

    private record Streamed(String cache, List<ChatCompletionChunk> chunks) {
        String text() {
            return chunks.stream().flatMap(c -> c.choices().stream())
                    .map(choice -> choice.delta().content().orElse(""))
                    .collect(Collectors.joining());
        }
    }
}
