package dev.detour.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.filter.RequestContext;
import dev.detour.filter.RequestExecutor;
import dev.detour.routing.Target;
import dev.detour.testing.TestContexts;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class OpenAiAdapterTest {

    @Test
    void forwardsBodyUntouchedWhenModelNamesMatch() {
        RequestContext ctx = TestContexts.newContext(RequestExecutor.DIRECT, "{\"model\":\"gpt-4o\",\"stream\":true}");
        Target target = ctx.route().targets().get(0);

        UpstreamRequest r = OpenAiAdapter.INSTANCE.prepare(ctx, target, target.keys().next());

        assertEquals(UpstreamBody.PASS_THROUGH, r.body());
        assertEquals("/v1/chat/completions", r.path());
        assertEquals("text/event-stream", r.headers().get("accept"));
        assertEquals("org-1", r.headers().get("openai-organization"));
        assertEquals("req_test", r.headers().get("x-request-id"));
    }

    @Test
    void splicesOnlyTheModelValueWhenRouteMapsIt() {
        String body = "{ \"messages\":[{\"content\":\"é\"}], \"model\" : \"mini\" }";
        RequestContext ctx = TestContexts.newContext(RequestExecutor.DIRECT, body);
        Target target = ctx.route().targets().get(0);

        UpstreamRequest r = OpenAiAdapter.INSTANCE.prepare(ctx, target, target.keys().next());

        assertEquals("{ \"messages\":[{\"content\":\"é\"}], \"model\" : \"gpt-4o-mini-2024-07-18\" }",
                     apply(body.getBytes(StandardCharsets.UTF_8), (UpstreamBody.Splice) r.body()));
    }

    @Test
    void sendsProviderKeyAsBearerRoundRobin() {
        RequestContext ctx = TestContexts.newContext(RequestExecutor.DIRECT, "{\"model\":\"gpt-4o\"}");
        Target target = ctx.route().targets().get(0);

        String first = OpenAiAdapter.INSTANCE.prepare(ctx, target, target.keys().next()).headers().get("authorization");
        String second = OpenAiAdapter.INSTANCE.prepare(ctx, target, target.keys().next()).headers().get("authorization");

        assertEquals("Bearer sk-test-0000000000001", first);
        assertEquals("Bearer sk-test-0000000000002", second);
    }

    @Test
    void keepsKeysOutOfHeadersToString() {
        RequestContext ctx = TestContexts.newContext(RequestExecutor.DIRECT, "{\"model\":\"gpt-4o\"}");
        Target target = ctx.route().targets().get(0);

        String printed = OpenAiAdapter.INSTANCE.prepare(ctx, target, target.keys().next()).toString();

        assertEquals(-1, printed.indexOf("sk-test-0000000000001"), printed);
    }

    @Test
    void asksForStreamUsageWhenSomeoneNeedsItAndKeepsTheChunkFromTheClient() throws Exception {
        String body = "{\"stream\":true,\"model\":\"mini\",\"messages\":[]}";
        RequestContext ctx = TestContexts.newContext(RequestExecutor.DIRECT, body);
        ctx.needsUsage(true);
        Target target = ctx.route().targets().get(0);

        UpstreamRequest r = OpenAiAdapter.INSTANCE.prepare(ctx, target, target.keys().next());

        UpstreamBody.Splices splices = (UpstreamBody.Splices) r.body();
        byte[] sent = body.getBytes(StandardCharsets.UTF_8);
        for (int i = splices.parts().size() - 1; i >= 0; i--) {
            sent = apply(sent, splices.parts().get(i)).getBytes(StandardCharsets.UTF_8);
        }
        com.fasterxml.jackson.databind.JsonNode json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(sent);
        assertEquals(true, json.at("/stream_options/include_usage").asBoolean());
        assertEquals("gpt-4o-mini-2024-07-18", json.get("model").asText());
        assertEquals(UsageChunkFilter.class, r.translator().getClass());
    }

    @Test
    void rewritesAClientsOwnStreamOptionsToAskForUsage() throws Exception {
        String body = "{\"stream\":true,\"model\":\"mini\",\"stream_options\":{\"include_usage\":false},\"messages\":[]}";
        RequestContext ctx = TestContexts.newContext(RequestExecutor.DIRECT, body);
        ctx.needsUsage(true);
        Target target = ctx.route().targets().get(0);

        UpstreamRequest r = OpenAiAdapter.INSTANCE.prepare(ctx, target, target.keys().next());

        JsonNode json = new ObjectMapper().readTree(((UpstreamBody.Replace) r.body()).bytes());
        assertEquals(true, json.at("/stream_options/include_usage").asBoolean());
        assertEquals("gpt-4o-mini-2024-07-18", json.get("model").asText(), "the route's model, as a splice would");
        assertEquals(UsageChunkFilter.class, r.translator().getClass());
    }

    @Test
    void leavesTheUsageChunkToAClientThatAskedForIt() {
        String body = "{\"stream\":true,\"model\":\"gpt-4o\",\"stream_options\":{\"include_usage\":true}}";
        RequestContext ctx = TestContexts.newContext(RequestExecutor.DIRECT, body);
        ctx.needsUsage(true);
        Target target = ctx.route().targets().get(0);

        UpstreamRequest r = OpenAiAdapter.INSTANCE.prepare(ctx, target, target.keys().next());

        assertEquals(UpstreamBody.PASS_THROUGH, r.body());
        assertNull(r.translator(), "the server reads the chunk as it passes to the client");
    }

    @Test
    void leavesStreamsAloneWhenNobodyNeedsUsage() {
        RequestContext ctx = TestContexts.newContext(RequestExecutor.DIRECT, "{\"model\":\"gpt-4o\",\"stream\":true}");
        Target target = ctx.route().targets().get(0);

        UpstreamRequest r = OpenAiAdapter.INSTANCE.prepare(ctx, target, target.keys().next());

        assertEquals(UpstreamBody.PASS_THROUGH, r.body());
        assertNull(r.translator());
    }

    @Test
    void doesNotSendAuthorizationWithoutKey() {
        RequestContext ctx = TestContexts.newContext(RequestExecutor.DIRECT, "{\"model\":\"m\"}");
        Target target = ctx.route().targets().get(0);

        assertNull(OpenAiAdapter.INSTANCE.prepare(ctx, target, target.keys().next()).headers().get("authorization"));
    }

    private static String apply(byte[] body, UpstreamBody.Splice edit) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(Arrays.copyOfRange(body, 0, edit.start()));
        out.writeBytes(edit.replacement());
        out.writeBytes(Arrays.copyOfRange(body, edit.end(), body.length));
        return out.toString(StandardCharsets.UTF_8);
    }
}
