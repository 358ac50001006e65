package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.auth.ClientKeys;
import dev.detour.config.KeyHash;
import dev.detour.server.testing.TestGateway;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Where {@code /metrics} is served and to whom: protected by an admin key, on a separate port, at another path,
 * or not at all.
 */
class MetricsAccessIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final String ADMIN_KEY = ClientKeys.newKey();
    private static final String PROVIDERS = """
            providers:
              mock:
                type: mock
            routes:
              - model: chat
                targets: [{provider: mock}]
            """;

    @Test
    void requiresAnAdminKeyWhenProtected() throws Exception {
        try (TestGateway gateway = TestGateway.start(PROVIDERS + """
                auth:
                  admin-keys: [%s]
                metrics:
                  require-admin-key: true
                """.formatted(KeyHash.of(ADMIN_KEY).text()))) {

            HttpResponse<String> anonymous = get(gateway.uri("/metrics"), null);
            HttpResponse<String> wrongKey = get(gateway.uri("/metrics"), ClientKeys.newKey());
            HttpResponse<String> admin = get(gateway.uri("/metrics"), ADMIN_KEY);

            assertEquals(401, anonymous.statusCode());
            assertEquals("invalid_admin_key", JSON.readTree(anonymous.body()).at("/error/code").asText());
            assertEquals(401, wrongKey.statusCode());
            assertEquals(200, admin.statusCode());
            assertTrue(admin.body().contains("detour_requests_in_flight"), admin.body());
        }
    }

    @Test
    void servesOnASeparatePortOnlyWhenConfigured() throws Exception {
        int port = freePort();
        try (TestGateway gateway = TestGateway.start(PROVIDERS + """
                metrics:
                  port: %d
                  path: /internal/metrics
                """.formatted(port))) {
            gateway.postJson("/v1/chat/completions", "{\"model\":\"chat\",\"messages\":[{\"role\":\"user\","
                                                     + "\"content\":\"hi\"}]}");
            gateway.awaitIdle(); // the request is counted once its answer is written, maybe after the client read it
            URI metricsUri = URI.create("http://127.0.0.1:" + port + "/internal/metrics");

            HttpResponse<String> separate = get(metricsUri, null);
            HttpResponse<String> other = get(URI.create("http://127.0.0.1:" + port + "/v1/models"), null);
            HttpResponse<String> main = get(gateway.uri("/internal/metrics"), null);

            assertEquals(port, gateway.server().metricsAddress().orElseThrow().getPort());
            assertEquals(200, separate.statusCode());
            assertTrue(separate.body().contains("detour_requests_total{cache=\"none\",model=\"chat\","
                                                + "provider=\"mock\",route=\"chat\",status_class=\"2xx\"} 1.0"),
                       separate.body());
            assertEquals(404, other.statusCode(), "the metrics port serves metrics only");
            assertEquals(404, main.statusCode(), "the main port does not serve metrics then");
        }
    }

    @Test
    void separatePortAlsoHonoursTheAdminKey() throws Exception {
        int port = freePort();
        try (TestGateway gateway = TestGateway.start(PROVIDERS + """
                auth:
                  admin-keys: [%s]
                metrics:
                  port: %d
                  require-admin-key: true
                """.formatted(KeyHash.of(ADMIN_KEY).text(), port))) {
            URI uri = URI.create("http://127.0.0.1:" + gateway.server().metricsAddress().orElseThrow().getPort()
                                 + "/metrics");

            assertEquals(401, get(uri, null).statusCode());
            assertEquals(200, get(uri, ADMIN_KEY).statusCode());
        }
    }

    @Test
    void servesNothingWhenDisabled() throws Exception {
        try (TestGateway gateway = TestGateway.start(PROVIDERS + """
                metrics:
                  enabled: false
                """)) {

            HttpResponse<String> r = get(gateway.uri("/metrics"), null);

            assertEquals(404, r.statusCode());
            assertEquals(200, gateway.postJson("/v1/chat/completions", "{\"model\":\"chat\",\"messages\":"
                                               + "[{\"role\":\"user\",\"content\":\"hi\"}]}").statusCode());
        }
    }

    private static HttpResponse<String> get(URI uri, String bearer) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET();
        if (bearer != null) {
            b.header("authorization", "Bearer " + bearer);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
