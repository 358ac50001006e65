package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.server.testing.TestGateway;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bad client input: each gets an OpenAI-shaped error with the right status, and the server stays up.
 */
class BadRequestIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestGateway gateway;

    @BeforeAll
    static void start() {
        gateway = TestGateway.start("""
                server:
                  max-body-size: 4KiB
                providers:
                  mock:
                    type: mock
                routes:
                  - model: gpt-4o-mini
                    targets:
                      - provider: mock
                  - model: text-embedding-3-small
                    targets:
                      - provider: mock
                """);
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void rejectsMalformedJson() throws Exception {
        HttpResponse<String> r = gateway.postJson("/v1/chat/completions", "{\"model\": \"gpt-4o-mini\", ");

        assertError(r, 400, "invalid_request_error", "invalid_json");
    }

    @Test
    void rejectsBodyThatIsNotAnObject() throws Exception {
        assertError(gateway.postJson("/v1/chat/completions", "[1,2]"), 400, "invalid_request_error", "invalid_json");
    }

    @Test
    void rejectsEmptyBody() throws Exception {
        assertError(gateway.postJson("/v1/chat/completions", ""), 400, "invalid_request_error", "invalid_json");
    }

    @Test
    void rejectsMissingModel() throws Exception {
        HttpResponse<String> r = gateway.postJson("/v1/chat/completions", "{\"messages\":[]}");

        JsonNode error = assertError(r, 400, "invalid_request_error", "missing_model");
        assertEquals("model", error.get("param").asText());
    }

    @Test
    void rejectsModelOfWrongType() throws Exception {
        JsonNode error = assertError(gateway.postJson("/v1/chat/completions", "{\"model\":42}"), 400,
                                     "invalid_request_error", "invalid_type");
        assertEquals("model", error.get("param").asText());
    }

    @Test
    void rejectsStreamOfWrongType() throws Exception {
        assertError(gateway.postJson("/v1/chat/completions", "{\"model\":\"gpt-4o-mini\",\"stream\":\"yes\"}"), 400,
                    "invalid_request_error", "invalid_type");
    }

    @Test
    void rejectsStreamingEmbeddings() throws Exception {
        assertError(gateway.postJson("/v1/embeddings",
                                     "{\"model\":\"text-embedding-3-small\",\"input\":\"a\",\"stream\":true}"),
                    400, "invalid_request_error", "invalid_value");
    }

    @Test
    void rejectsUnknownModelListingAvailableOnes() throws Exception {
        HttpResponse<String> r = gateway.postJson("/v1/chat/completions", "{\"model\":\"gpt-5-nope\",\"messages\":[]}");

        JsonNode error = assertError(r, 404, "not_found_error", "model_not_found");
        String message = error.get("message").asText();
        assertTrue(message.contains("gpt-5-nope") && message.contains("gpt-4o-mini"), message);
    }

    @Test
    void rejectsBodyOverLimit() throws Exception {
        String big = "{\"model\":\"gpt-4o-mini\",\"pad\":\"" + "x".repeat(8000) + "\"}";

        HttpResponse<String> r = gateway.postJson("/v1/chat/completions", big);

        assertError(r, 413, "invalid_request_error", "request_too_large");
    }

    @Test
    void rejectsNonJsonContentType() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(gateway.uri("/v1/chat/completions"))
                .header("content-type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"gpt-4o-mini\"}")).build();

        HttpResponse<String> r = gateway.http().send(request, HttpResponse.BodyHandlers.ofString());

        assertError(r, 415, "invalid_request_error", "unsupported_media_type");
    }

    @Test
    void acceptsJsonContentTypeWithCharset() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(gateway.uri("/v1/chat/completions"))
                .header("content-type", "application/json; charset=utf-8")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")).build();

        assertEquals(200, gateway.http().send(request, HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    @Test
    void answersUnknownPathWith404() throws Exception {
        assertError(gateway.get("/v2/whatever"), 404, "not_found_error", "unknown_url");
    }

    @Test
    void answersWrongMethodWith405() throws Exception {
        HttpResponse<String> r = gateway.get("/v1/chat/completions");

        assertError(r, 405, "invalid_request_error", "method_not_allowed");
        assertEquals("POST", r.headers().firstValue("allow").orElseThrow());
    }

    @Test
    void answersPostOnModelsWith405() throws Exception {
        assertError(gateway.postJson("/v1/models", "{}"), 405, "invalid_request_error", "method_not_allowed");
    }

    @Test
    void describesOneModel() throws Exception {
        HttpResponse<String> r = gateway.get("/v1/models/gpt-4o-mini");

        assertEquals(200, r.statusCode());
        assertEquals("gpt-4o-mini", JSON.readTree(r.body()).get("id").asText());
        assertError(gateway.get("/v1/models/nope"), 404, "not_found_error", "model_not_found");
    }

    private static JsonNode assertError(HttpResponse<String> r, int status, String type, String code)
            throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElseThrow().startsWith("application/json"));
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertEquals(type, error.get("type").asText(), r.body());
        assertEquals(code, error.get("code").asText(), r.body());
        assertTrue(error.get("message").asText().length() > 10, r.body());
        assertTrue(error.has("param"), r.body());
        return error;
    }
}
