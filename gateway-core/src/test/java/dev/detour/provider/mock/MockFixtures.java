package dev.detour.provider.mock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.detour.config.MockConfig;
import dev.detour.config.MockFailureConfig;
import dev.detour.config.ProviderConfig;
import dev.detour.config.ProviderType;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Shared builders and readers for the mock provider's tests. */
final class MockFixtures {

    static final Instant NOW = Instant.parse("2026-11-21T10:00:00Z");
    static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private MockFixtures() {
    }

    static MockResponder responder(Duration latency, int tokensPerSecond, int embeddingDimensions,
                                   MockFailureConfig... failures) {
        MockConfig mock = new MockConfig(latency, tokensPerSecond, embeddingDimensions, List.of(failures));
        ProviderConfig provider = new ProviderConfig("mock", ProviderType.MOCK, URI.create("http://mock.invalid"),
                                                     List.of(), Map.of(), mock);
        return new MockResponder(provider, CLOCK);
    }

    static MockResponder responder(MockFailureConfig... failures) {
        return responder(Duration.ZERO, 0, 16, failures);
    }

    static InputStream body(String json) {
        return new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8));
    }

    static JsonNode json(byte[] bytes) {
        try {
            return MAPPER.readTree(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Returns each event's JSON payload, checking SSE framing; the final {@code [DONE]} frame is left out. */
    static List<JsonNode> eventPayloads(MockReply reply) {
        List<byte[]> events = reply.events();
        assertEquals("data: [DONE]\n\n", new String(events.get(events.size() - 1), StandardCharsets.UTF_8),
                     "last frame");
        List<JsonNode> payloads = new ArrayList<>();
        for (byte[] event : events.subList(0, events.size() - 1)) {
            String frame = new String(event, StandardCharsets.UTF_8);
            assertTrue(frame.startsWith("data: ") && frame.endsWith("\n\n"), () -> "frame: " + frame);
            String data = frame.substring("data: ".length(), frame.length() - 2);
            assertTrue(data.indexOf('\n') < 0, () -> "one-line data: " + data);
            payloads.add(json(data.getBytes(StandardCharsets.UTF_8)));
        }
        return payloads;
    }
}
