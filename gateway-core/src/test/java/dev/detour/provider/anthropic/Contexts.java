package dev.detour.provider.anthropic;

import dev.detour.api.Endpoint;
import dev.detour.api.InvalidRequestException;
import dev.detour.api.RequestSniffer;
import dev.detour.api.SniffedRequest;
import dev.detour.config.ConfigException;
import dev.detour.config.ConfigLoader;
import dev.detour.filter.RequestBody;
import dev.detour.filter.RequestContext;
import dev.detour.filter.RequestExecutor;
import dev.detour.routing.RouteTable;
import dev.detour.routing.Target;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Request contexts routed to Anthropic providers, for unit tests. */
final class Contexts {

    private static final String CONFIG = """
            providers:
              claude:
                type: anthropic
                keys:
                  - id: k1
                    value: sk-ant-test-0000000001
                headers:
                  anthropic-beta: prompt-caching-2024-07-31
              proxied:
                type: anthropic
                base-url: http://127.0.0.1:9/proxy/v1/
                options:
                  version: "2024-10-22"
                headers:
                  x-api-key: sk-ant-from-headers
                keys:
                  - id: p1
                    value: sk-ant-test-0000000002
            routes:
              - model: claude
                targets:
                  - provider: claude
                    model: claude-sonnet-4-5
              - model: proxied
                targets:
                  - provider: proxied
                    model: claude-haiku-4-5
              - model: capped
                targets:
                  - provider: claude
                    model: claude-house-model
            models:
              - {family: anthropic, id: claude-house-model, context-window: 100000, max-output-tokens: 1024}
            """;

    private static final RouteTable ROUTES = routes();

    private Contexts() {
    }

    /** Returns a context for {@code body} at {@code endpoint}, routed by its model. */
    static RequestContext of(Endpoint endpoint, String body) {
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
        return new RequestContext("req_test", endpoint, name -> null, requestBody, sniffed,
                                  ROUTES.route(sniffed.model()), RequestExecutor.DIRECT, 0L);
    }

    /** Returns a chat context for {@code body}. */
    static RequestContext chat(String body) {
        return of(Endpoint.CHAT_COMPLETIONS, body);
    }

    /** Returns the first target of {@code ctx}'s route. */
    static Target target(RequestContext ctx) {
        return ctx.route().targets().get(0);
    }

    private static RouteTable routes() {
        try {
            return RouteTable.of(ConfigLoader.parse(CONFIG, "anthropic-test.yaml", Map.of()), 1_700_000_000L);
        } catch (ConfigException e) {
            throw new IllegalStateException(e);
        }
    }
}
