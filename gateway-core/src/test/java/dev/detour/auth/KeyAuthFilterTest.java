package dev.detour.auth;

import static dev.detour.auth.AuthTesting.client;
import static dev.detour.auth.AuthTesting.context;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.config.ClientConfig;
import dev.detour.config.ConfigLoader;
import dev.detour.config.GatewayConfig;
import dev.detour.config.KeyHash;
import dev.detour.filter.Caller;
import dev.detour.filter.FilterChain;
import dev.detour.filter.FilterOrder;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.testing.FakeClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class KeyAuthFilterTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final GatewayResponse.Full OK = new GatewayResponse.Full(200, Headers.empty(), new byte[0]);
    private static final String ALICE_KEY = "dtr_aliceAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    private static final String BOB_KEY = "dtr_bobBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
    private static final String OLD_KEY = "dtr_oldOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO";

    private final FakeClock clock = new FakeClock();
    private final Instant expiry = clock.instant().plus(Duration.ofHours(1));
    private final KeyAuthFilter filter = new KeyAuthFilter(List.of(
            client("alice", ALICE_KEY, List.of("*")),
            client("bob", BOB_KEY, List.of("mini", "gpt-4?")),
            client("old", OLD_KEY, List.of("*"), Optional.of(expiry))), clock);
    private final List<RequestContext> passed = new ArrayList<>();
    private final FilterChain next = ctx -> {
        passed.add(ctx);
        return CompletableFuture.completedFuture(OK);
    };

    @Test
    void runsAtTheAuthPositionUnderItsName() {
        assertEquals(FilterOrder.AUTH, filter.order());
        assertEquals("auth", filter.name());
    }

    @Test
    void acceptsBearerKeyAndSetsTheCaller() throws Exception {
        RequestContext ctx = context("m", "Authorization", "Bearer " + ALICE_KEY);

        GatewayResponse r = run(ctx);

        assertSame(OK, r);
        assertEquals(List.of(ctx), passed);
        Caller caller = ctx.caller();
        assertEquals(new Caller("alice", "team-alice", "pro", Map.of("env", "prod"), Set.of("user")), caller);
    }

    @Test
    void acceptsBearerSchemeInAnyCase() throws Exception {
        for (String scheme : List.of("bearer", "BEARER", "BeArEr")) {
            RequestContext ctx = context("m", "authorization", scheme + "  " + ALICE_KEY + " ");

            assertSame(OK, run(ctx), scheme);
            assertEquals("alice", ctx.caller().client(), scheme);
        }
    }

    @Test
    void acceptsXApiKeyHeader() throws Exception {
        RequestContext ctx = context("m", "x-api-key", ALICE_KEY);

        assertSame(OK, run(ctx));

        assertEquals("alice", ctx.caller().client());
    }

    @Test
    void prefersBearerOverXApiKey() throws Exception {
        RequestContext ctx = context("mini", "Authorization", "Bearer " + BOB_KEY, "x-api-key", ALICE_KEY);

        assertSame(OK, run(ctx));

        assertEquals("bob", ctx.caller().client());
    }

    @Test
    void fallsBackToXApiKeyWhenAuthorizationIsNotBearer() throws Exception {
        RequestContext ctx = context("m", "Authorization", "Basic YWxpY2U6c2VjcmV0", "x-api-key", ALICE_KEY);

        assertSame(OK, run(ctx));

        assertEquals("alice", ctx.caller().client());
    }

    @Test
    void refusesMissingKeyWith401() throws Exception {
        assertError(run(context("m")), 401, "authentication_error", "missing_api_key");
        assertError(run(context("m", "Authorization", "Bearer ")), 401, "authentication_error", "missing_api_key");
        assertError(run(context("m", "Authorization", "Bearer")), 401, "authentication_error", "missing_api_key");
        assertError(run(context("m", "Authorization", "Basic YWxpY2U6c2VjcmV0")), 401, "authentication_error",
                    "missing_api_key");
        assertError(run(context("m", "x-api-key", "  ")), 401, "authentication_error", "missing_api_key");
        assertError(run(context("m", "Authorization", "Bearer" + ALICE_KEY)), 401, "authentication_error",
                    "missing_api_key");

        assertTrue(passed.isEmpty());
    }

    @Test
    void missingKeyMessageSaysHowToSendIt() throws Exception {
        String message = message(run(context("m")));

        assertTrue(message.contains("Authorization: Bearer"), message);
        assertTrue(message.contains("x-api-key"), message);
    }

    @Test
    void refusesUnknownKeyWith401WithoutEchoingIt() throws Exception {
        String key = ClientKeys.newKey();
        RequestContext ctx = context("m", "Authorization", "Bearer " + key);

        GatewayResponse r = run(ctx);

        JsonNode error = assertError(r, 401, "authentication_error", "invalid_api_key");
        assertEquals("Incorrect API key provided.", error.get("message").asText());
        assertNoKeyMaterial(r, key);
        assertTrue(passed.isEmpty());
        assertSame(Caller.ANONYMOUS, ctx.caller());
    }

    @Test
    void refusesKeysThatDifferOnlyInTheirLastCharacter() throws Exception {
        String nearMiss = ALICE_KEY.substring(0, ALICE_KEY.length() - 1) + "B";

        assertError(run(context("m", "x-api-key", nearMiss)), 401, "authentication_error", "invalid_api_key");
        assertError(run(context("m", "x-api-key", ALICE_KEY + "A")), 401, "authentication_error", "invalid_api_key");
        assertError(run(context("m", "x-api-key", ALICE_KEY.substring(1))), 401, "authentication_error",
                    "invalid_api_key");
    }

    @Test
    void refusesTheHashPresentedAsIfItWereTheKey() throws Exception {
        String hash = KeyHash.of(ALICE_KEY).text();

        assertError(run(context("m", "x-api-key", hash)), 401, "authentication_error", "invalid_api_key");
        assertError(run(context("m", "x-api-key", hash.substring("sha256:".length()))), 401,
                    "authentication_error", "invalid_api_key");
    }

    @Test
    void keysAreCaseSensitive() throws Exception {
        assertError(run(context("m", "x-api-key", ALICE_KEY.toUpperCase(java.util.Locale.ROOT))), 401,
                    "authentication_error", "invalid_api_key");
    }

    @Test
    void acceptsAKeyUntilItExpires() throws Exception {
        clock.advanceNanos(Duration.ofHours(1).toNanos() - 1);

        RequestContext ctx = context("m", "x-api-key", OLD_KEY);

        assertSame(OK, run(ctx));
        assertEquals("old", ctx.caller().client());
    }

    @Test
    void refusesExpiredKeyWith401NamingClientAndInstant() throws Exception {
        clock.advanceMillis(Duration.ofHours(1).toMillis());

        GatewayResponse r = run(context("m", "x-api-key", OLD_KEY));

        JsonNode error = assertError(r, 401, "authentication_error", "expired_api_key");
        String message = error.get("message").asText();
        assertTrue(message.contains("'old'"), message);
        assertTrue(message.contains("2026-11-22T11:00:00Z"), message);
        assertTrue(message.contains("expired"), message);
        assertNoKeyMaterial(r, OLD_KEY);
        assertTrue(passed.isEmpty());
    }

    @Test
    void expiryIsCheckedBeforeTheModel() throws Exception {
        KeyAuthFilter f = new KeyAuthFilter(List.of(client("old", OLD_KEY, List.of("mini"), Optional.of(expiry))),
                                            clock);
        clock.advanceMillis(Duration.ofHours(2).toMillis());

        GatewayResponse r = f.filter(context("m", "x-api-key", OLD_KEY), next).toCompletableFuture().get();

        assertError(r, 401, "authentication_error", "expired_api_key");
    }

    @Test
    void refusesModelNotAllowedWith403NamingModelAndAllowedOnes() throws Exception {
        GatewayResponse r = run(context("m", "x-api-key", BOB_KEY));

        JsonNode error = assertError(r, 403, "permission_error", "model_not_allowed");
        assertEquals("model", error.get("param").asText());
        String message = error.get("message").asText();
        assertTrue(message.contains("'m'"), message);
        assertTrue(message.contains("'bob'"), message);
        assertTrue(message.contains("mini, gpt-4?"), message);
        assertNoKeyMaterial(r, BOB_KEY);
        assertTrue(passed.isEmpty());
    }

    @Test
    void matchesAllowedModelsAsGlobs() throws Exception {
        assertSame(OK, run(context("mini", "x-api-key", BOB_KEY)));
        assertSame(OK, run(context("gpt-4o", "x-api-key", BOB_KEY)), "gpt-4? matches gpt-4o");

        assertEquals(2, passed.size());
    }

    @Test
    void starAllowsEveryModel() throws Exception {
        for (String model : List.of("m", "mini", "gpt-4o")) {
            assertSame(OK, run(context(model, "x-api-key", ALICE_KEY)), model);
        }
    }

    @Test
    void emptyAllowedModelsAllowsNothing() throws Exception {
        KeyAuthFilter f = new KeyAuthFilter(List.of(client("none", ALICE_KEY, List.of())), clock);

        GatewayResponse r = f.filter(context("m", "x-api-key", ALICE_KEY), next).toCompletableFuture().get();

        String message = assertError(r, 403, "permission_error", "model_not_allowed").get("message").asText();
        assertTrue(message.contains("empty"), message);
    }

    @Test
    void readsAllowedModelsFromYaml() throws Exception {
        GatewayConfig config = ConfigLoader.parse("""
                providers: {mock: {type: mock}}
                routes: [{model: m, targets: [{provider: mock}]}, {model: mini, targets: [{provider: mock}]}]
                auth: {enabled: true}
                clients:
                  - {name: all, key-hash: %s}
                  - {name: none, key-hash: %s, allowed-models: []}
                  - {name: some, key-hash: %s, allowed-models: ["mi*"]}
                """.formatted(KeyHash.of(ALICE_KEY).text(), KeyHash.of(BOB_KEY).text(), KeyHash.of(OLD_KEY).text()),
                "t.yaml", Map.of());
        KeyAuthFilter f = new KeyAuthFilter(config.chain().clients(), clock);

        assertSame(OK, f.filter(context("m", "x-api-key", ALICE_KEY), next).toCompletableFuture().get());
        assertEquals(403, f.filter(context("m", "x-api-key", BOB_KEY), next).toCompletableFuture().get().status());
        assertEquals(403, f.filter(context("m", "x-api-key", OLD_KEY), next).toCompletableFuture().get().status());
        assertSame(OK, f.filter(context("mini", "x-api-key", OLD_KEY), next).toCompletableFuture().get());
    }

    @Test
    void refusesEverythingWithNoClients() throws Exception {
        KeyAuthFilter f = new KeyAuthFilter(List.of(), clock);

        GatewayResponse r = f.filter(context("m", "x-api-key", ALICE_KEY), next).toCompletableFuture().get();

        assertError(r, 401, "authentication_error", "invalid_api_key");
    }

    @Test
    void rejectsTwoClientsWithOneKeyNamingThemNotTheHash() {
        List<ClientConfig> clients = List.of(client("a", ALICE_KEY, List.of("*")), client("b", ALICE_KEY,
                                                                                          List.of("*")));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                                                  () -> new KeyAuthFilter(clients, clock));

        assertTrue(e.getMessage().contains("'a'") && e.getMessage().contains("'b'"), e.getMessage());
        assertFalse(e.getMessage().contains(KeyHash.of(ALICE_KEY).text().substring(7, 20)), e.getMessage());
    }

    @Test
    void isStatelessAcrossRequests() throws Exception {
        RequestContext bob = context("mini", "x-api-key", BOB_KEY);
        RequestContext alice = context("m", "x-api-key", ALICE_KEY);
        RequestContext nobody = context("m");

        run(bob);
        run(alice);
        run(nobody);

        assertEquals("bob", bob.caller().client());
        assertEquals("alice", alice.caller().client());
        assertSame(Caller.ANONYMOUS, nobody.caller());
    }

    @Test
    void neverPutsKeyMaterialInToString() {
        String text = filter.toString();

        assertFalse(text.contains("dtr_"), text);
        assertFalse(text.contains("sha256"), text);
    }

    private GatewayResponse run(RequestContext ctx) throws Exception {
        return filter.filter(ctx, next).toCompletableFuture().get();
    }

    private static JsonNode assertError(GatewayResponse r, int status, String type, String code) throws Exception {
        assertEquals(status, r.status());
        assertEquals("application/json", r.headers().get("content-type"));
        JsonNode error = JSON.readTree(((GatewayResponse.Full) r).body()).get("error");
        assertEquals(type, error.get("type").asText(), error.toString());
        assertEquals(code, error.get("code").asText(), error.toString());
        assertTrue(error.has("param"), error.toString());
        return error;
    }

    private static String message(GatewayResponse r) throws Exception {
        return JSON.readTree(((GatewayResponse.Full) r).body()).at("/error/message").asText();
    }

    /** Asserts that no run of 6 characters of {@code key}'s secret part, nor its hash, appears in {@code r}. */
    private static void assertNoKeyMaterial(GatewayResponse r, String key) {
        String body = new String(((GatewayResponse.Full) r).body(), java.nio.charset.StandardCharsets.UTF_8);
        String secret = key.substring(ClientKeys.PREFIX.length());
        for (int i = 0; i + 6 <= secret.length(); i++) {
            assertFalse(body.contains(secret.substring(i, i + 6)), body);
        }
        assertFalse(body.contains(KeyHash.of(key).text().substring(7, 19)), body);
        assertFalse(r.headers().toString().contains(secret.substring(0, 6)), r.headers().toString());
    }
}
