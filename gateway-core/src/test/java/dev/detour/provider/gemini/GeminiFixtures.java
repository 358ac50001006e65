package dev.detour.provider.gemini;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Fixture files, request contexts on a Gemini route table, and JSON/SSE comparison for the Gemini tests. */
final class GeminiFixtures {

    /** The key of the test provider; it must never appear in anything but the header. */
    static final String KEY = "AIzaTestKey-0000000000000000000000000";
    /** 2025-11-21T04:40:00Z, the {@code created} time of every fixture. */
    static final Clock CLOCK = Clock.fixed(Instant.ofEpochSecond(1_763_700_000L), ZoneOffset.UTC);
    static final ObjectMapper JSON = new ObjectMapper();

    private static final String CONFIG = """
            providers:
              gem:
                type: gemini
                keys:
                  - id: g1
                    value: %s
                headers:
                  x-goog-user-project: proj-1
              proxied:
                type: gemini
                base-url: http://127.0.0.1:9/google/v1beta/
                keys:
                  - id: p1
                    value: AIzaOther-00000000000000000000000000000
            routes:
              - model: flash
                targets:
                  - provider: gem
                    model: gemini-2.5-flash
              - model: prefixed
                targets:
                  - provider: gem
                    model: models/gemini-2.5-pro
              - model: tuned
                targets:
                  - provider: gem
                    model: tunedModels/my-tuned-1
              - model: odd
                targets:
                  - provider: proxied
                    model: "my model/v1:beta é"
              - model: embed
                targets:
                  - provider: gem
                    model: gemini-embedding-001
            """.formatted(KEY);
    private static final RouteTable ROUTES = routes();

    private GeminiFixtures() {
    }

    /** Returns a context for {@code body} on {@code endpoint}, routed by its model. */
    static RequestContext context(Endpoint endpoint, String body) {
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

    /** Returns the fixture at {@code fixtures/gemini/<path>} as bytes. */
    static byte[] bytes(String path) {
        try (InputStream in = GeminiFixtures.class.getResourceAsStream("/fixtures/gemini/" + path)) {
            if (in == null) {
                throw new IllegalArgumentException("no fixture " + path);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Returns the fixture at {@code fixtures/gemini/<path>} as text. */
    static String text(String path) {
        return new String(bytes(path), StandardCharsets.UTF_8);
    }

    static JsonNode tree(byte[] json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + new String(json, StandardCharsets.UTF_8), e);
        }
    }

    /** Asserts that two JSON texts are the same tree, whatever their field order and spacing. */
    static void assertJsonEquals(byte[] expected, byte[] actual, String what) {
        assertEquals(tree(expected), tree(actual),
                     () -> what + ": got " + new String(actual, StandardCharsets.UTF_8));
    }

    /**
     * Asserts that an OpenAI SSE body matches the expected one event by event: the same number of events, each
     * {@code data: <json>\n\n} with the same JSON tree, and {@code data: [DONE]} where expected.
     */
    static void assertSseEquals(String expected, String actual, String what) {
        List<String> want = events(expected);
        List<String> got = events(actual);
        assertEquals(want.size(), got.size(), () -> what + ": events " + got);
        for (int i = 0; i < want.size(); i++) {
            String w = want.get(i);
            String g = got.get(i);
            if (w.equals("[DONE]")) {
                assertEquals(w, g, what + " event " + i);
            } else {
                int index = i;
                assertEquals(tree(w.getBytes(StandardCharsets.UTF_8)), tree(g.getBytes(StandardCharsets.UTF_8)),
                             () -> what + " event " + index + ": got " + g);
            }
        }
    }

    /** Splits an OpenAI SSE body into its data payloads, checking the exact {@code data: ...\n\n} framing. */
    static List<String> events(String sse) {
        List<String> out = new ArrayList<>();
        int at = 0;
        while (at < sse.length()) {
            int end = sse.indexOf("\n\n", at);
            if (end < 0 || !sse.startsWith("data: ", at)) {
                throw new AssertionError("not an OpenAI SSE frame at " + at + ": " + sse.substring(at));
            }
            String data = sse.substring(at + 6, end);
            if (data.indexOf('\n') >= 0) {
                throw new AssertionError("multi-line data: " + data);
            }
            out.add(data);
            at = end + 2;
        }
        return out;
    }

    private static RouteTable routes() {
        try {
            GatewayConfig config = ConfigLoader.parse(CONFIG, "gemini-test.yaml", Map.of());
            return RouteTable.of(config, 1_700_000_000L);
        } catch (ConfigException e) {
            throw new IllegalStateException(e);
        }
    }
}
