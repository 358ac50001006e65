package dev.detour.provider.mock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.api.Endpoint;
import dev.detour.api.RequestSniffer;
import dev.detour.api.UsageScanner;
import dev.detour.filter.RequestBody;
import dev.detour.filter.RequestContext;
import dev.detour.filter.RequestExecutor;
import dev.detour.provider.ResponseTranslator;
import dev.detour.provider.UpstreamBody;
import dev.detour.provider.UpstreamRequest;
import dev.detour.routing.Target;
import dev.detour.testing.TestContexts;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The mock provider's usage, played the way the server's mock transport plays it: the adapter's body (with
 * {@code stream_options} added when Detour needs the usage) goes to the responder, and its events through the
 * adapter's translator. The server reads usage from what reaches the client, plus what the translator keeps back.
 */
class MockUsageTest {

    private static final String CHAT = "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\","
                                       + "\"content\":\"What is the weather?\"}]%s}";

    @Test
    void keepsTheUsageOfAStreamFromAClientThatDidNotAskAndStillKnowsIt() throws Exception {
        RequestContext ctx = context(Endpoint.CHAT_COMPLETIONS, CHAT.formatted(""));
        ctx.needsUsage(true);

        String shown = play(ctx);

        assertFalse(shown.contains("\"usage\""), shown);
        assertTrue(shown.endsWith("data: [DONE]\n\n"), shown);
        assertTrue(ctx.usage().totalTokens() > 0, "the usage chunk was read, not shown");
        assertEquals(ctx.usage().promptTokens() + ctx.usage().completionTokens(), ctx.usage().totalTokens());
    }

    @Test
    void showsTheUsageChunkToAClientThatAskedAndKnowsIt() throws Exception {
        RequestContext ctx = context(Endpoint.CHAT_COMPLETIONS,
                                     CHAT.formatted(",\"stream_options\":{\"include_usage\":true}"));
        ctx.needsUsage(true);

        String shown = play(ctx);

        assertTrue(shown.contains("\"choices\":[],\"usage\":{"), shown);
        assertTrue(ctx.usage().totalTokens() > 0);
    }

    @Test
    void asksEvenWhenTheClientSentStreamOptionsWithoutUsage() throws Exception {
        RequestContext ctx = context(Endpoint.CHAT_COMPLETIONS,
                                     CHAT.formatted(",\"stream_options\":{\"include_usage\":false}"));
        ctx.needsUsage(true);

        String shown = play(ctx);

        assertFalse(shown.contains("\"usage\":{"), shown);
        assertTrue(ctx.usage().totalTokens() > 0);
    }

    @Test
    void knowsTheUsageOfALegacyCompletionStream() throws Exception {
        RequestContext ctx = context(Endpoint.COMPLETIONS, "{\"model\":\"m\",\"stream\":true,\"prompt\":\"Say hi\"}");
        ctx.needsUsage(true);

        String shown = play(ctx);

        assertFalse(shown.contains("\"usage\":{"), shown);
        assertTrue(ctx.usage().totalTokens() > 0);
    }

    @Test
    void carriesUsageInJsonAnswersWhereTheServerReadsIt() throws Exception {
        for (String body : List.of("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                                   "{\"model\":\"m\",\"input\":\"hi\"}")) {
            Endpoint endpoint = body.contains("input") ? Endpoint.EMBEDDINGS : Endpoint.CHAT_COMPLETIONS;
            RequestContext ctx = context(endpoint, body);
            ctx.needsUsage(true);
            Target target = ctx.route().targets().get(0);
            UpstreamRequest request = target.adapter().prepare(ctx, target, target.keys().next());
            MockReply reply = new MockResponder(target.provider()).reply(endpoint, target.model(), "-", false,
                                                                          new ByteArrayInputStream(sent(ctx, request)));
            UsageScanner usage = new UsageScanner();

            usage.scan(reply.body(), 0, reply.body().length);

            assertTrue(usage.totalTokens() > 0, endpoint.path());
        }
    }

    /** Returns what the client would receive, as the server's mock transport and stream would play it. */
    private static String play(RequestContext ctx) throws Exception {
        Target target = ctx.route().targets().get(0);
        UpstreamRequest request = target.adapter().prepare(ctx, target, target.keys().next());
        MockReply reply = new MockResponder(target.provider()).reply(ctx.endpoint(), target.model(), "-", true,
                                                                      new ByteArrayInputStream(sent(ctx, request)));
        ResponseTranslator translator = request.translator();
        ByteArrayOutputStream shown = new ByteArrayOutputStream();
        for (byte[] event : reply.events()) {
            if (translator == null) {
                shown.writeBytes(event);
            } else {
                translator.translateStream(ByteBuffer.wrap(event), shown::write);
            }
        }
        if (translator != null) {
            translator.endStream(shown::write);
        }
        byte[] bytes = shown.toByteArray();
        ctx.usage().scan(bytes, 0, bytes.length); // as the server reads what it writes to the client
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static byte[] sent(RequestContext ctx, UpstreamRequest request) throws Exception {
        byte[] client;
        try (InputStream in = ctx.clientBody().newInputStream()) {
            client = in.readAllBytes();
        }
        UpstreamBody body = request.body();
        if (body instanceof UpstreamBody.Replace replace) {
            return replace.bytes();
        }
        List<UpstreamBody.Splice> edits = body instanceof UpstreamBody.Splice one ? List.of(one)
                : body instanceof UpstreamBody.Splices many ? many.parts() : List.of();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int at = 0;
        for (UpstreamBody.Splice e : edits) {
            out.write(client, at, e.start() - at);
            out.writeBytes(e.replacement());
            at = e.end();
        }
        out.write(client, at, client.length - at);
        return out.toByteArray();
    }

    private static RequestContext context(Endpoint endpoint, String body) throws Exception {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        var sniffed = RequestSniffer.sniff(new ByteArrayInputStream(bytes));
        RequestBody requestBody = new RequestBody() {
            @Override
            public int length() {
                return bytes.length;
            }

            @Override
            public InputStream newInputStream() {
                return new ByteArrayInputStream(bytes);
            }
        };
        return new RequestContext("req_test", endpoint, name -> null, requestBody, sniffed,
                                  TestContexts.routes().route(sniffed.model()), RequestExecutor.DIRECT, 0L);
    }
}
