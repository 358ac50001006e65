package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.auth.ClientKeys;
import dev.detour.config.KeyHash;
import dev.detour.server.testing.TestGateway;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The admin API over the network: who may call it, the shape of each view, that no secret ever appears in
 * it, and pulling a key out of rotation and putting it back.
 */
class AdminApiIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ADMIN_KEY = ClientKeys.newKey();
    private static final String K1 = "sk-admin-it-first-secret-000000000001";
    private static final String K2 = "sk-admin-it-second-secret-00000000002";
    private static final String OTHER_MAIN = "sk-admin-it-other-main-00000000000003";
    private static final String[] SECRETS = {K1, K2, OTHER_MAIN, ADMIN_KEY};
    private static final String[] VIEWS = {"/admin/config", "/admin/routes", "/admin/pools", "/admin/breakers",
                                           "/admin/limits"};

    private static TestGateway gateway;

    @BeforeAll
    static void start() {
        gateway = TestGateway.start("""
                auth:
                  admin-keys:
                    - %s
                providers:
                  mock:
                    type: mock
                    pool:
                      strategy: ordered
                    keys:
                      - id: k1
                        value: %s
                      - id: k2
                        value: %s
                      - id: main
                        value: %s
                  other:
                    type: mock
                    keys:
                      - id: main
                        value: %s
                routes:
                  - model: chat
                    strategy: fallback
                    targets:
                      - provider: mock
                        model: mock-chat
                      - provider: other
                limits:
                  - name: everyone
                    scope: global
                    requests:
                      capacity: 1000
                      per: 24h
                """.formatted(KeyHash.of(ADMIN_KEY).text(), K1, K2, OTHER_MAIN, OTHER_MAIN));
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void everyAdminPathNeedsTheAdminKey() throws Exception {
        List<String> paths = new ArrayList<>(List.of(VIEWS));
        paths.add("/admin/nothing-here");

        for (String path : paths) {
            assertError(send("GET", path), 401, "invalid_admin_key");
            assertError(send("GET", path, "authorization", "Bearer " + ClientKeys.newKey()), 401, "invalid_admin_key");
        }
        assertError(send("POST", "/admin/reload"), 401, "invalid_admin_key");
        assertError(send("POST", "/admin/keys/mock/k1/disable"), 401, "invalid_admin_key");
        assertEquals("available", keyState("mock", "k1"), "an unauthorised disable changes nothing");
    }

    @Test
    void unknownAdminPathIs404AndWrongMethodIs405() throws Exception {
        HttpResponse<String> unknown = admin("GET", "/admin/nothing-here");
        HttpResponse<String> postView = admin("POST", "/admin/config");
        HttpResponse<String> getReload = admin("GET", "/admin/reload");

        JsonNode error = assertError(unknown, 404, "unknown_url");
        assertTrue(error.get("message").asText().contains("GET /admin/pools"), unknown.body());
        assertError(postView, 405, "method_not_allowed");
        assertEquals("GET, HEAD", postView.headers().firstValue("allow").orElseThrow());
        assertError(getReload, 405, "method_not_allowed");
        assertEquals("POST", getReload.headers().firstValue("allow").orElseThrow());
    }

    @Test
    void configViewShowsVersionAndReloadRecord() throws Exception {
        JsonNode config = view("/admin/config");

        assertEquals(1, config.at("/version/number").asLong());
        assertTrue(config.at("/version/sha256").isNull(), "an in-memory config has no file hash");
        assertEquals("test.yaml", config.at("/version/source").asText());
        assertFalse(config.at("/version/loaded_at").asText().isEmpty());
        assertFalse(config.get("reloadable").asBoolean());
        assertEquals(0, config.at("/reloads/applied").asLong());
        assertTrue(config.at("/reloads/last_error").isNull());
        assertTrue(config.get("pending_restart").isArray());
        assertEquals(2, config.at("/summary/providers").asInt());
        assertEquals(1, config.at("/summary/admin_keys").asInt());
    }

    @Test
    void routesViewShowsTargetsWithProviderModelAndBreaker() throws Exception {
        JsonNode route = view("/admin/routes").at("/routes/0");

        assertEquals("chat", route.get("model").asText());
        assertEquals("fallback", route.get("strategy").asText());
        assertEquals("mock", route.at("/targets/0/provider").asText());
        assertEquals("mock", route.at("/targets/0/type").asText());
        assertEquals("mock-chat", route.at("/targets/0/model").asText());
        assertEquals("closed", route.at("/targets/0/circuit_breaker").asText());
        assertEquals("other", route.at("/targets/1/provider").asText());
        assertTrue(route.get("context_fallback").isNull());
    }

    @Test
    void breakersViewListsEveryTarget() throws Exception {
        JsonNode breakers = view("/admin/breakers").get("breakers");

        assertEquals(2, breakers.size());
        assertEquals("chat", breakers.at("/0/route").asText());
        assertEquals("closed", breakers.at("/0/state").asText());
        assertEquals(0, breakers.at("/0/probe_in_ms").asLong());
        assertTrue(breakers.at("/0/enabled").asBoolean());
    }

    @Test
    void limitsViewShowsConfiguredLimitAndItsBucketLevel() throws Exception {
        assertEquals(200, chat().statusCode());

        JsonNode limit = view("/admin/limits").at("/limits/0");

        assertEquals("everyone", limit.get("name").asText());
        assertEquals("limits", limit.get("defined_in").asText());
        assertEquals("global", limit.get("scope").asText());
        assertEquals(1000, limit.at("/requests/capacity").asLong());
        assertEquals(86_400_000, limit.at("/requests/per_ms").asLong());
        assertTrue(limit.get("tokens").isNull());
        assertEquals(0, limit.get("refused").asLong());
        JsonNode bucket = limit.at("/buckets/0");
        assertEquals("requests", bucket.get("kind").asText());
        assertEquals("", bucket.get("scope_value").asText());
        // One token comes back every 86 s: the request just taken is still missing.
        assertTrue(bucket.get("available").asLong() < 1000, limit.toString());
    }

    @Test
    void noAdminOutputShowsASecret() throws Exception {
        StringBuilder all = new StringBuilder();
        for (String path : VIEWS) {
            all.append(admin("GET", path).body());
        }
        all.append(admin("POST", "/admin/keys/mock/k2/disable").body());
        all.append(admin("POST", "/admin/keys/mock/k2/enable").body());
        all.append(admin("POST", "/admin/reload").body());

        for (String secret : SECRETS) {
            assertFalse(all.toString().contains(secret), "a secret leaked into admin output");
            assertFalse(all.toString().contains(secret.substring(0, 20)), "part of a secret leaked");
        }
        assertTrue(all.toString().contains("...0002"), "keys are shown by their masked tail");
    }

    @Test
    void disabledKeyIsSkippedUntilEnabled() throws Exception {
        assertEquals("k1", chat().headers().firstValue("x-detour-key-id").orElseThrow(), "ordered: k1 first");

        HttpResponse<String> disabled = admin("POST", "/admin/keys/mock/k1/disable");

        assertEquals(200, disabled.statusCode(), disabled.body());
        JsonNode answer = JSON.readTree(disabled.body());
        assertEquals("disabled", answer.get("state").asText());
        assertEquals("operator", answer.get("disabled_by").asText());
        assertTrue(answer.get("changed").asBoolean());
        assertEquals("...0001", answer.get("key").asText());
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> r = chat();
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("k2", r.headers().firstValue("x-detour-key-id").orElseThrow());
        }
        assertEquals("operator", key("mock", "k1").get("disabled_by").asText());

        HttpResponse<String> enabled = admin("POST", "/admin/keys/k1/enable");

        assertEquals(200, enabled.statusCode(), enabled.body());
        assertEquals("available", JSON.readTree(enabled.body()).get("state").asText());
        assertEquals("k1", chat().headers().firstValue("x-detour-key-id").orElseThrow());
        assertFalse(JSON.readTree(admin("POST", "/admin/keys/k1/enable").body()).get("changed").asBoolean());
    }

    @Test
    void unknownOrAmbiguousKeysAreRefused() throws Exception {
        assertError(admin("POST", "/admin/keys/mock/nope/disable"), 404, "key_not_found");
        assertError(admin("POST", "/admin/keys/nobody/k1/disable"), 404, "key_not_found");
        assertError(admin("POST", "/admin/keys/nope/disable"), 404, "key_not_found");
        assertError(admin("POST", "/admin/keys/mock/k1/pause"), 404, "unknown_url");
        JsonNode ambiguous = assertError(admin("POST", "/admin/keys/main/disable"), 409, "ambiguous_key_id");
        assertTrue(ambiguous.get("message").asText().contains("/admin/keys/{provider}/main/disable"));
        assertEquals("available", keyState("mock", "main"));
        assertEquals("available", keyState("other", "main"));
    }

    @Test
    void reloadOfAConfigGivenInMemoryIsAConflict() throws Exception {
        assertError(admin("POST", "/admin/reload"), 409, "not_reloadable");
    }

    @Test
    void withoutAdminKeysOnlyLoopbackCallersAreServed() throws Exception {
        Optional<InetAddress> lan = nonLoopbackAddress();
        assumeTrue(lan.isPresent(), "needs a non-loopback IPv4 address on this machine");
        try (TestGateway open = TestGateway.start("""
                server:
                  host: 0.0.0.0
                providers:
                  mock:
                    type: mock
                routes:
                  - model: m
                    targets:
                      - provider: mock
                """)) {
            HttpResponse<String> local = open.get("/admin/config");
            HttpResponse<String> remote = open.http().send(
                    HttpRequest.newBuilder(URI.create("http://" + lan.get().getHostAddress() + ":" + open.port()
                                                      + "/admin/config")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> remoteReload = open.http().send(
                    HttpRequest.newBuilder(URI.create("http://" + lan.get().getHostAddress() + ":" + open.port()
                                                      + "/admin/reload")).timeout(Duration.ofSeconds(10))
                               .POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertEquals(200, local.statusCode(), local.body());
            assertError(remote, 403, "admin_local_only");
            assertError(remoteReload, 403, "admin_local_only");
        }
    }

    private static Optional<InetAddress> nonLoopbackAddress() throws Exception {
        for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nif.isUp() || nif.isLoopback()) {
                continue;
            }
            for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                if (a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()) {
                    return Optional.of(a);
                }
            }
        }
        return Optional.empty();
    }

    private static HttpResponse<String> chat() throws Exception {
        return gateway.postJson("/v1/chat/completions",
                                "{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    }

    private static JsonNode view(String path) throws Exception {
        HttpResponse<String> r = admin("GET", path);
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElseThrow().startsWith("application/json"));
        return JSON.readTree(r.body());
    }

    private static JsonNode key(String provider, String id) throws Exception {
        for (JsonNode pool : view("/admin/pools").get("pools")) {
            if (pool.get("provider").asText().equals(provider)) {
                for (JsonNode k : pool.get("keys")) {
                    if (k.get("id").asText().equals(id)) {
                        return k;
                    }
                }
            }
        }
        throw new AssertionError("no key " + provider + "/" + id);
    }

    private static String keyState(String provider, String id) throws Exception {
        return key(provider, id).get("state").asText();
    }

    private static HttpResponse<String> admin(String method, String path) throws Exception {
        return send(method, path, "authorization", "Bearer " + ADMIN_KEY);
    }

    private static HttpResponse<String> send(String method, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(gateway.uri(path)).timeout(Duration.ofSeconds(20))
                .method(method, HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return gateway.http().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode assertError(HttpResponse<String> r, int status, String code) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElseThrow().startsWith("application/json"));
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertEquals(code, error.get("code").asText(), r.body());
        assertTrue(error.has("message") && error.has("type") && error.has("param"), r.body());
        return error;
    }
}
