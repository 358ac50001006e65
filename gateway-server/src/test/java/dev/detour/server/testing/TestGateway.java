package dev.detour.server.testing;

import dev.detour.config.ConfigException;
import dev.detour.config.ConfigLoader;
import dev.detour.config.GatewayConfig;
import dev.detour.server.GatewayServer;
import dev.detour.server.reload.ConfigSource;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * A real gateway on an ephemeral loopback port, configured from YAML text, plus a JDK HTTP client
 * pointed at it. Close it after use.
 */
public final class TestGateway implements AutoCloseable {

    private final GatewayServer server;
    private final AccessLines accessLog;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private TestGateway(GatewayServer server, AccessLines accessLog) {
        this.server = server;
        this.accessLog = accessLog;
    }

    /**
     * Starts a gateway on {@code yaml}; {@code server.port} is forced to 0 and host to 127.0.0.1. Its access log
     * writes to {@link #accessLog()} rather than stdout (lines are written only while the {@code detour.access}
     * logger is at {@code INFO}; {@code logback-test.xml} keeps it at {@code WARN}).
     */
    public static TestGateway start(String yaml) {
        try {
            GatewayConfig parsed = ConfigLoader.parse(yaml, "test.yaml", Map.of());
            GatewayConfig config = parsed.withPort(0);
            AccessLines accessLog = new AccessLines();
            return new TestGateway(GatewayServer.start(config, accessLog), accessLog);
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Starts a gateway on the config file {@code file}, which it watches and reloads like the real one;
     * {@code server.port} is forced to 0 in every version read. Its access log writes to {@link #accessLog()}.
     */
    public static TestGateway start(Path file) {
        try {
            AccessLines accessLog = new AccessLines();
            return new TestGateway(GatewayServer.start(ConfigSource.of(file, c -> c.withPort(0)), accessLog),
                                   accessLog);
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Returns the gateway. */
    public GatewayServer server() {
        return server;
    }

    /** Returns what the access log's stdout sink wrote. */
    public AccessLines accessLog() {
        return accessLog;
    }

    /** Returns the port. */
    public int port() {
        return server.port();
    }

    /** Returns {@code http://127.0.0.1:PORT}. */
    public String baseUrl() {
        return "http://127.0.0.1:" + port();
    }

    /** Returns the URI of {@code path}. */
    public URI uri(String path) {
        return URI.create(baseUrl() + path);
    }

    /**
     * Waits (at most 15 seconds) until no request is in flight. The server counts a request out (usage, metrics,
     * access log) once its last byte is written, which may be just after the client has read that byte; call this
     * before asserting on what the server counted.
     */
    public void awaitIdle() {
        Eventually.assertCount(0, () -> -server.inFlight(), "requests in flight");
    }

    /** Sends a JSON POST to {@code path}. */
    public HttpResponse<String> postJson(String path, String json) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(uri(path))
                .timeout(Duration.ofSeconds(20))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** Sends a GET to {@code path}. */
    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(20)).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Returns a new official OpenAI Java SDK client pointed at this gateway: no retries of its own (tests
     * assert what one request does) and a 10-second timeout. Close it after use.
     */
    public com.openai.client.OpenAIClient openAiClient() {
        return com.openai.client.okhttp.OpenAIOkHttpClient.builder()
                .baseUrl(baseUrl() + "/v1")
                .apiKey("unused")
                .maxRetries(0)
                .timeout(Duration.ofSeconds(10))
                .build();
    }

    /** Returns the shared JDK client. */
    public HttpClient http() {
        return http;
    }

    @Override
    public void close() {
        server.stop(Duration.ofSeconds(2));
    }
}
