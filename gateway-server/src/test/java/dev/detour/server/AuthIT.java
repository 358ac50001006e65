package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.PermissionDeniedException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.detour.auth.ClientKeys;
import dev.detour.config.KeyHash;
import dev.detour.server.testing.TestGateway;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Client keys end to end: a gateway with {@code auth.enabled: true}, clients and admin keys, in front of
 * the built-in mock provider. Keys are generated per run and configured by their hash only.
 */
class AuthIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAT = "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    private static final String ALICE_KEY = ClientKeys.newKey();
    private static final String BOB_KEY = ClientKeys.newKey();
    private static final String EXPIRED_KEY = ClientKeys.newKey();
    private static final String ADMIN_KEY = ClientKeys.newKey();

    private static TestGateway gateway;

    @BeforeAll
    static void start() {
        gateway = TestGateway.start("""
                auth:
                  enabled: true
                  admin-keys:
                    - %s
                providers:
                  mock:
                    type: mock
                routes:
                  - model: gpt-4o-mini
                    targets:
                      - provider: mock
                  - model: gpt-4o
                    targets:
                      - provider: mock
                  - model: claude-haiku
                    targets:
                      - provider: mock
                clients:
                  - name: alice
                    key-hash: %s
                    team: growth
                    tier: pro
                  - name: bob
                    key-hash: %s
                    allowed-models: ["gpt-4o*"]
                  - name: retired
                    key-hash: %s
                    expires: 2020-01-01T00:00:00Z
                """.formatted(KeyHash.of(ADMIN_KEY).text(), KeyHash.of(ALICE_KEY).text(),
                              KeyHash.of(BOB_KEY).text(), KeyHash.of(EXPIRED_KEY).text()));
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    @Test
    void refusesRequestWithoutKey() throws Exception {
        HttpResponse<String> r = chat("gpt-4o-mini");

        JsonNode error = assertError(r, 401, "authentication_error", "missing_api_key");
        assertTrue(error.get("message").asText().contains("Authorization: Bearer"), r.body());
    }

    @Test
    void refusesUnknownKeyWithoutEchoingIt() throws Exception {
        String key = ClientKeys.newKey();

        HttpResponse<String> r = chat("gpt-4o-mini", "Authorization", "Bearer " + key);

        JsonNode error = assertError(r, 401, "authentication_error", "invalid_api_key");
        assertEquals("Incorrect API key provided.", error.get("message").asText());
        assertFalse(r.body().contains(key.substring(4, 12)), r.body());
        assertFalse(r.headers().map().toString().contains(key.substring(4, 12)), r.headers().toString());
    }

    @Test
    void refusesExpiredKeyNamingClientAndInstant() throws Exception {
        HttpResponse<String> r = chat("gpt-4o-mini", "x-api-key", EXPIRED_KEY);

        JsonNode error = assertError(r, 401, "authentication_error", "expired_api_key");
        String message = error.get("message").asText();
        assertTrue(message.contains("'retired'") && message.contains("2020-01-01T00:00:00Z"), message);
        assertFalse(r.body().contains(EXPIRED_KEY.substring(4, 12)), r.body());
    }

    @Test
    void refusesModelTheClientMayNotUse() throws Exception {
        HttpResponse<String> r = chat("claude-haiku", "Authorization", "Bearer " + BOB_KEY);

        JsonNode error = assertError(r, 403, "permission_error", "model_not_allowed");
        String message = error.get("message").asText();
        assertTrue(message.contains("'claude-haiku'") && message.contains("gpt-4o*"), message);
        assertEquals("model", error.get("param").asText());
    }

    @Test
    void servesValidBearerKey() throws Exception {
        HttpResponse<String> r = chat("gpt-4o-mini", "Authorization", "Bearer " + ALICE_KEY);

        assertEquals(200, r.statusCode(), r.body());
        assertEquals("chat.completion", JSON.readTree(r.body()).get("object").asText());
        assertEquals("mock", r.headers().firstValue("x-detour-provider").orElseThrow());
    }

    @Test
    void servesValidXApiKey() throws Exception {
        HttpResponse<String> r = chat("gpt-4o-mini", "x-api-key", ALICE_KEY);

        assertEquals(200, r.statusCode(), r.body());
        assertEquals("chat.completion", JSON.readTree(r.body()).get("object").asText());
    }

    @Test
    void servesModelsMatchingTheClientsGlobs() throws Exception {
        assertEquals(200, chat("gpt-4o", "x-api-key", BOB_KEY).statusCode());
        assertEquals(200, chat("gpt-4o-mini", "authorization", "bearer " + BOB_KEY).statusCode());
    }

    @Test
    void refusesAdminWithoutAdminKeyEvenFromLocalhost() throws Exception {
        HttpResponse<String> none = get("/admin/pools");
        HttpResponse<String> wrong = get("/admin/pools", "Authorization", "Bearer " + ClientKeys.newKey());
        HttpResponse<String> clientKey = get("/admin/pools", "x-api-key", ALICE_KEY);

        assertError(none, 401, "authentication_error", "invalid_admin_key");
        assertError(wrong, 401, "authentication_error", "invalid_admin_key");
        assertError(clientKey, 401, "authentication_error", "invalid_admin_key");
    }

    @Test
    void servesAdminWithAdminKeyInBothHeaderForms() throws Exception {
        HttpResponse<String> bearer = get("/admin/pools", "Authorization", "Bearer " + ADMIN_KEY);
        HttpResponse<String> apiKey = get("/admin/pools", "x-api-key", ADMIN_KEY);

        assertEquals(200, bearer.statusCode(), bearer.body());
        assertEquals(200, apiKey.statusCode(), apiKey.body());
        assertTrue(bearer.headers().firstValue("content-type").orElseThrow().startsWith("application/json"));
    }

    @Test
    void adminKeyIsNotAClientKey() throws Exception {
        HttpResponse<String> r = chat("gpt-4o-mini", "x-api-key", ADMIN_KEY);

        assertError(r, 401, "authentication_error", "invalid_api_key");
    }

    @Test
    void servesAdminToLocalhostWhenNoAdminKeysAreConfigured() throws Exception {
        try (TestGateway local = TestGateway.start("""
                auth:
                  enabled: true
                providers:
                  mock:
                    type: mock
                routes:
                  - model: m
                    targets:
                      - provider: mock
                clients:
                  - name: alice
                    key-hash: %s
                """.formatted(KeyHash.of(ALICE_KEY).text()))) {
            HttpResponse<String> r = local.get("/admin/pools");

            assertEquals(200, r.statusCode(), r.body());
        }
    }

    @Test
    void openAiSdkSeesWrongKeyAsUnauthorized() {
        OpenAIClient client = sdk(ClientKeys.newKey());
        try {
            UnauthorizedException e = assertThrows(UnauthorizedException.class,
                    () -> client.chat().completions().create(sdkChat("gpt-4o-mini")));

            assertEquals(401, e.statusCode());
            assertEquals(Optional.of("invalid_api_key"), e.code());
        } finally {
            client.close();
        }
    }

    @Test
    void openAiSdkSeesModelNotAllowedAsPermissionDenied() {
        OpenAIClient client = sdk(BOB_KEY);
        try {
            PermissionDeniedException e = assertThrows(PermissionDeniedException.class,
                    () -> client.chat().completions().create(sdkChat("claude-haiku")));

            assertEquals(403, e.statusCode());
            assertEquals(Optional.of("model_not_allowed"), e.code());
        } finally {
            client.close();
        }
    }

    @Test
    void openAiSdkIsServedWithAValidKey() {
        OpenAIClient client = sdk(ALICE_KEY);
        try {
            ChatCompletion completion = client.chat().completions().create(sdkChat("gpt-4o-mini"));

            assertFalse(completion.choices().isEmpty());
        } finally {
            client.close();
        }
    }

    private static HttpResponse<String> chat(String model, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(gateway.uri("/v1/chat/completions"))
                .timeout(Duration.ofSeconds(20))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(CHAT.formatted(model)));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return gateway.http().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(gateway.uri(path)).timeout(Duration.ofSeconds(20)).GET();
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return gateway.http().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode assertError(HttpResponse<String> r, int status, String type, String code)
            throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElseThrow().startsWith("application/json"));
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertEquals(type, error.get("type").asText(), r.body());
        assertEquals(code, error.get("code").asText(), r.body());
        assertTrue(error.has("message") && error.has("param"), r.body());
        return error;
    }

    private static OpenAIClient sdk(String key) {
        return OpenAIOkHttpClient.builder()
                .baseUrl(gateway.baseUrl() + "/v1")
                .apiKey(key)
                .maxRetries(0)
                .timeout(Duration.ofSeconds(10))
                .build();
    }

    private static ChatCompletionCreateParams sdkChat(String model) {
        return ChatCompletionCreateParams.builder().model(model).addUserMessage("hello").build();
    }
}
