package dev.detour.provider.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.api.Endpoint;
import dev.detour.api.InvalidRequestException;
import dev.detour.api.RequestSniffer;
import dev.detour.api.SniffedRequest;
import dev.detour.config.ConfigException;
import dev.detour.config.ConfigLoader;
import dev.detour.filter.RequestBody;
import dev.detour.filter.RequestContext;
import dev.detour.filter.RequestExecutor;
import dev.detour.provider.ByteSink;
import dev.detour.routing.RouteTable;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Golden fixtures under {@code fixtures/bedrock/} and request contexts routed to a Bedrock provider. */
final class BedrockFixtures {

    static final ObjectMapper JSON = new ObjectMapper();

    /** Model {@code claude} maps to a model id with a colon, {@code profile} to an inference-profile ARN. */
    private static final String CONFIG = """
            providers:
              aws:
                type: bedrock
                options: {region: us-east-1}
                keys:
                  - id: static
                    value: AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
              aws-temp:
                type: bedrock
                base-url: http://127.0.0.1:8089/prefix
                options: {region: eu-west-1}
                keys:
                  - id: temporary
                    value: ASIAEXAMPLE:c2VjcmV0LXNlY3JldC1zZWNyZXQ:FQoGZXIvYXdzEXAMPLETOKEN
            routes:
              - model: claude
                targets:
                  - provider: aws
                    model: anthropic.claude-3-haiku-20240307-v1:0
              - model: profile
                targets:
                  - provider: aws-temp
                    model: "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/\\
                      eu.anthropic.claude-3-haiku-20240307-v1:0"
              - model: titan
                targets:
                  - provider: aws
                    model: amazon.titan-embed-text-v2:0
            """;

    private BedrockFixtures() {
    }

    /** Returns the bytes of fixture {@code name}. */
    static byte[] bytes(String name) {
        try (InputStream in = BedrockFixtures.class.getResourceAsStream("/fixtures/bedrock/" + name)) {
            if (in == null) {
                throw new IllegalArgumentException("no fixture " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Returns fixture {@code name} parsed as JSON. */
    static JsonNode json(String name) {
        return tree(bytes(name));
    }

    /** Parses {@code bytes} as JSON. */
    static JsonNode tree(byte[] bytes) {
        try {
            return JSON.readTree(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Returns a context for {@code body} at {@code endpoint}, routed by its model. */
    static RequestContext context(Endpoint endpoint, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        SniffedRequest sniffed;
        RouteTable routes;
        try {
            sniffed = RequestSniffer.sniff(new ByteArrayInputStream(bytes));
            routes = RouteTable.of(ConfigLoader.parse(CONFIG, "bedrock-test.yaml", Map.of()), 1_700_000_000L);
        } catch (InvalidRequestException | ConfigException e) {
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
        return new RequestContext("req_bedrock", endpoint, name -> null, requestBody, sniffed,
                                  routes.route(sniffed.model()), RequestExecutor.DIRECT, 0L);
    }

    /** A sink that collects what a translator writes. */
    static final class Collector implements ByteSink {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        @Override
        public void write(byte[] bytes, int offset, int len) {
            out.write(bytes, offset, len);
        }

        String text() {
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    /**
     * Splits SSE text into its events' data values; every event must be one {@code data:} line ended by a blank
     * line.
     */
    static List<String> events(String sse) {
        List<String> events = new ArrayList<>();
        int at = 0;
        while (at < sse.length()) {
            int end = sse.indexOf("\n\n", at);
            if (end < 0) {
                throw new AssertionError("unterminated event: " + sse.substring(at));
            }
            String event = sse.substring(at, end);
            if (!event.startsWith("data: ") || event.indexOf('\n') >= 0) {
                throw new AssertionError("not one data line: " + event);
            }
            events.add(event.substring(6));
            at = end + 2;
        }
        return events;
    }
}
