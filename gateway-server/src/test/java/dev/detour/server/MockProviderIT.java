package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.server.testing.TestGateway;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MockProviderIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestGateway gateway;

    @BeforeAll
    static void start() {
        gateway = TestGateway.start("""
                providers:
                  mock:
                    type: mock
                routes:
                  - model: gpt-4o-mini
                    targets:
                      - provider: mock
                  - model: alias
                    targets:
                      - provider: mock
                        model: upstream-name
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
    void answersChatCompletionAsJson() throws Exception {
        HttpResponse<String> r = gateway.postJson("/v1/chat/completions",
                "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi there\"}]}");

        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = JSON.readTree(r.body());
        assertEquals("chat.completion", body.get("object").asText());
        assertTrue(body.at("/choices/0/message/content").asText().contains("hi there"));
        assertTrue(r.headers().firstValue("x-request-id").isPresent());
        assertEquals("mock", r.headers().firstValue("x-detour-provider").orElseThrow());
    }

    @Test
    void mapsRouteNameToUpstreamModel() throws Exception {
        HttpResponse<String> r = gateway.postJson("/v1/chat/completions",
                "{\"model\":\"alias\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");

        assertEquals(200, r.statusCode(), r.body());
        assertEquals("upstream-name", JSON.readTree(r.body()).get("model").asText());
        assertEquals("upstream-name", r.headers().firstValue("x-detour-model").orElseThrow());
    }

    @Test
    void streamsChatCompletionAsServerSentEvents() throws Exception {
        HttpResponse<String> r = gateway.postJson("/v1/chat/completions",
                "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElseThrow().startsWith("text/event-stream"));
        assertTrue(r.body().startsWith("data: {"), r.body());
        assertTrue(r.body().endsWith("data: [DONE]\n\n"), r.body());
    }

    @Test
    void answersEmbeddings() throws Exception {
        HttpResponse<String> r = gateway.postJson("/v1/embeddings",
                "{\"model\":\"text-embedding-3-small\",\"input\":[\"a\",\"b\"]}");

        assertEquals(200, r.statusCode(), r.body());
        assertEquals(2, JSON.readTree(r.body()).get("data").size());
    }

    @Test
    void listsRoutableModels() throws Exception {
        HttpResponse<String> r = gateway.get("/v1/models");

        assertEquals(200, r.statusCode());
        JsonNode body = JSON.readTree(r.body());
        assertEquals("list", body.get("object").asText());
        assertEquals("gpt-4o-mini", body.at("/data/0/id").asText());
        assertEquals(3, body.get("data").size());
    }

    @Test
    void reportsHealthAndReadiness() throws Exception {
        assertEquals(200, gateway.get("/healthz").statusCode());
        HttpResponse<String> ready = gateway.get("/readyz");
        assertEquals(200, ready.statusCode());
        assertNotNull(JSON.readTree(ready.body()).get("status"));
    }
}
