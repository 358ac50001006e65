package dev.detour.testing;

import dev.detour.api.Endpoint;
import dev.detour.api.InvalidRequestException;
import dev.detour.api.RequestSniffer;
import dev.detour.api.SniffedRequest;
import dev.detour.config.ConfigException;
import dev.detour.config.ConfigLoader;
import dev.detour.config.GatewayConfig;
import dev.detour.filter.RequestBody;
import dev.detour.filter.RequestContext;
import dev.detour.filter.RequestExecutor;
import dev.detour.routing.RouteTable;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Builds request contexts for unit tests, without sockets. */
public final class TestContexts {

    private static final String CONFIG = """
            providers:
              mock:
                type: mock
              up:
                type: openai
                base-url: https://api.example.com/v1
                keys:
                  - id: k1
                    value: sk-test-0000000000001
                  - id: k2
                    value: sk-test-0000000000002
                headers:
                  OpenAI-Organization: org-1
            routes:
              - model: m
                targets:
                  - provider: mock
              - model: mini
                targets:
                  - provider: up
                    model: gpt-4o-mini-2024-07-18
              - model: gpt-4o
                targets:
                  - provider: up
            """;

    private TestContexts() {
    }

    /** Returns the route table of a small test config. */
    public static RouteTable routes() {
        try {
            GatewayConfig config = ConfigLoader.parse(CONFIG, "test.yaml", Map.of());
            return RouteTable.of(config, 1_700_000_000L);
        } catch (ConfigException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Returns a chat context for model {@code m} on {@code executor}. */
    public static RequestContext newContext(RequestExecutor executor) {
        return newContext(executor, "{\"model\":\"m\",\"messages\":[]}");
    }

    /** Returns a chat context for {@code body}, routed by its model. */
    public static RequestContext newContext(RequestExecutor executor, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        SniffedRequest sniffed;
        try {
            sniffed = RequestSniffer.sniff(new ByteArrayInputStream(bytes));
        } catch (InvalidRequestException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
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
        return new RequestContext("req_test", Endpoint.CHAT_COMPLETIONS, name -> null, requestBody, sniffed,
                                  routes().route(sniffed.model()), executor, 0L);
    }
}
