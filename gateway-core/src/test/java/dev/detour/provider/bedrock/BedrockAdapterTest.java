package dev.detour.provider.bedrock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class BedrockAdapterTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-22T12:30:45Z"), ZoneOffset.UTC);
    private static final BedrockAdapter ADAPTER = BedrockAdapter.of(CLOCK);
    private static final String CHAT = "{\"model\":\"claude\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}";

    @Test
    void isRegisteredForBedrockDialect() {
        assertInstanceOf(BedrockAdapter.class, ProviderAdapters.forType(ProviderType.BEDROCK));
    }

    @Test
    void sendsSignedConverseRequestToEncodedModelPath() throws Exception {
        RequestContext ctx = BedrockFixtures.context(Endpoint.CHAT_COMPLETIONS, CHAT);
        Target target = ctx.route().targets().get(0);

        UpstreamRequest r = ADAPTER.prepare(ctx, target, target.keys().next());

        assertEquals("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse", r.path());
        assertEquals("application/json", r.headers().get("accept"));
        assertEquals("20261122T123045Z", r.headers().get("x-amz-date"));
        String authorization = r.headers().get("authorization");
        assertTrue(authorization.startsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/bedrock/"
                                            + "aws4_request, SignedHeaders=accept;content-type;host;"
                                            + "x-amz-content-sha256;x-amz-date, Signature="), authorization);
        assertNull(r.headers().get("x-amz-security-token"));
        assertEquals(BedrockFixtures.tree("{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Hi\"}]}]}"
                                                  .getBytes(StandardCharsets.UTF_8)),
                     BedrockFixtures.tree(((UpstreamBody.Replace) r.body()).bytes()));
        assertInstanceOf(ConverseTranslator.class, r.translator());
    }

    @Test
    void streamsFromConverseStreamWithSessionTokenAndArnModel() throws Exception {
        RequestContext ctx = BedrockFixtures.context(Endpoint.CHAT_COMPLETIONS,
                "{\"model\":\"profile\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
        Target target = ctx.route().targets().get(0);

        UpstreamRequest r = ADAPTER.prepare(ctx, target, target.keys().next());

        assertEquals("/prefix/model/arn%3Aaws%3Abedrock%3Aeu-west-1%3A123456789012%3Ainference-profile"
                     + "%2Feu.anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream", r.path());
        assertTrue(r.stream());
        assertEquals("application/vnd.amazon.eventstream", r.headers().get("accept"));
        assertEquals("FQoGZXIvYXdzEXAMPLETOKEN", r.headers().get("x-amz-security-token"));
        assertTrue(r.headers().get("authorization").contains("Credential=ASIAEXAMPLE/20261122/eu-west-1/bedrock/"),
                   r.headers().get("authorization"));
        assertTrue(r.headers().get("authorization").contains("x-amz-security-token"), "the token is signed");
    }

    @Test
    void signsTheExactBodyItSends() throws Exception {
        RequestContext ctx = BedrockFixtures.context(Endpoint.CHAT_COMPLETIONS, CHAT);
        Target target = ctx.route().targets().get(0);

        UpstreamRequest r = ADAPTER.prepare(ctx, target, target.keys().next());

        byte[] body = ((UpstreamBody.Replace) r.body()).bytes();
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        assertEquals(sha, r.headers().get("x-amz-content-sha256"));
    }

    @Test
    void sendsTitanEmbeddingsToInvoke() throws Exception {
        RequestContext ctx = BedrockFixtures.context(Endpoint.EMBEDDINGS, "{\"model\":\"titan\",\"input\":\"hello\"}");
        Target target = ctx.route().targets().get(0);

        UpstreamRequest r = ADAPTER.prepare(ctx, target, target.keys().next());

        assertEquals("/model/amazon.titan-embed-text-v2%3A0/invoke", r.path());
        assertInstanceOf(TitanEmbeddings.class, r.translator());
    }

    @Test
    void reportsUsageIntoTheContextWhenItIsNeeded() throws Exception {
        RequestContext ctx = BedrockFixtures.context(Endpoint.EMBEDDINGS, "{\"model\":\"titan\",\"input\":\"hello\"}");
        ctx.needsUsage(true);
        Target target = ctx.route().targets().get(0);
        UpstreamRequest r = ADAPTER.prepare(ctx, target, target.keys().next());

        r.translator().translateBody(BedrockFixtures.bytes("embeddings/titan.response.titan.json"));

        assertEquals(6, ctx.usage().totalTokens());
    }

    @Test
    void refusesLegacyCompletions() {
        RequestContext ctx = BedrockFixtures.context(Endpoint.COMPLETIONS, "{\"model\":\"claude\",\"prompt\":\"Hi\"}");
        Target target = ctx.route().targets().get(0);

        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                                                 () -> ADAPTER.prepare(ctx, target, target.keys().next()));

        assertEquals("unsupported_endpoint", e.code());
    }

    @Test
    void namesTheKeyButNeverItsValueWhenMalformed() {
        // The config loader refuses such keys; the adapter still guards against them.
        RequestContext ctx = BedrockFixtures.context(Endpoint.CHAT_COMPLETIONS,
                "{\"model\":\"claude\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
        Target target = ctx.route().targets().get(0);
        dev.detour.config.ApiKeyConfig broken = new dev.detour.config.ApiKeyConfig("broken",
                dev.detour.config.Secret.of("just-one-part"));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                                                  () -> ADAPTER.prepare(ctx, target, broken));

        assertTrue(e.getMessage().contains("'broken'"), e.getMessage());
        assertFalse(e.getMessage().contains("just-one-part"), e.getMessage());
    }

    @Test
    void keepsSecretsOutOfPrintedRequests() throws Exception {
        RequestContext ctx = BedrockFixtures.context(Endpoint.CHAT_COMPLETIONS,
                "{\"model\":\"profile\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
        Target target = ctx.route().targets().get(0);

        String printed = ADAPTER.prepare(ctx, target, target.keys().next()).toString();

        assertFalse(printed.contains("c2VjcmV0LXNlY3JldC1zZWNyZXQ"), printed);
        assertFalse(BedrockCredentials.of(target.keys().next()).toString().contains("FQoGZXIvYXdzEXAMPLETOKEN"));
    }

    @Test
    void encodesModelIdsTheWayAwsSdksDo() {
        assertEquals("anthropic.claude-3-5-sonnet-20240620-v1%3A0",
                     BedrockAdapter.encodeLabel("anthropic.claude-3-5-sonnet-20240620-v1:0"));
        assertEquals("a%2Fb~c_d-e.f%20%C3%A9", BedrockAdapter.encodeLabel("a/b~c_d-e.f é"));
    }

    @Test
    void reportsUntranslatableRequestAsClientError() {
        RequestContext ctx = BedrockFixtures.context(Endpoint.CHAT_COMPLETIONS,
                                                     "{\"model\":\"claude\",\"messages\":{}}");
        Target target = ctx.route().targets().get(0);

        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                                                 () -> ADAPTER.prepare(ctx, target, target.keys().next()));

        assertEquals("messages", e.param());
    }
}
