package dev.detour.provider.mock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.filter.Headers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MockReplyTest {

    private static final byte[] NO_BYTES = new byte[0];

    @Test
    void rejectsBodyAndEventsTogether() {
        List<byte[]> events = List.of(MockJson.DONE);

        assertThrows(IllegalArgumentException.class, () -> new MockReply(
                200, Headers.empty(), Duration.ZERO, new byte[] {'x'}, events, Duration.ZERO, false));
    }

    @Test
    void rejectsInvalidStatusAndNegativeDelays() {
        assertThrows(IllegalArgumentException.class, () -> new MockReply(
                42, Headers.empty(), Duration.ZERO, NO_BYTES, List.of(), Duration.ZERO, false));
        assertThrows(IllegalArgumentException.class, () -> new MockReply(
                200, Headers.empty(), Duration.ofMillis(-1), NO_BYTES, List.of(), Duration.ZERO, false));
        assertThrows(IllegalArgumentException.class, () -> new MockReply(
                200, Headers.empty(), Duration.ZERO, NO_BYTES, List.of(), Duration.ofMillis(-1), false));
        assertThrows(NullPointerException.class, () -> new MockReply(
                200, null, Duration.ZERO, NO_BYTES, List.of(), Duration.ZERO, false));
    }

    @Test
    void copiesTheEventList() {
        List<byte[]> events = new ArrayList<>();
        events.add("data: {}\n\n".getBytes(StandardCharsets.UTF_8));
        MockReply reply = MockReply.stream(MockJson.SSE_HEADERS, Duration.ZERO, events, Duration.ZERO);

        events.add(MockJson.DONE);

        assertEquals(1, reply.events().size());
        assertTrue(reply.streamed());
    }
}
