package dev.detour.provider.mock;

import dev.detour.filter.Headers;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What the mock provider answers, and how to pace it. The server waits {@code delay}, sends
 * {@code status} and {@code headers}, then either the whole {@code body} or each of {@code events},
 * {@code interEventDelay} apart.
 *
 * <p>The arrays are handed over, not copied: neither the responder nor the server modifies them
 * once the reply exists.
 *
 * @param status          the HTTP status
 * @param headers         response headers, {@code content-type} included
 * @param delay           how long to wait before sending the headers
 * @param body            the complete body; empty when the reply is {@linkplain #streamed() streamed}
 * @param events          complete SSE frames ({@code data: ...\n\n}) in UTF-8, the last one
 *                        {@code data: [DONE]\n\n}; empty when the reply is not streamed
 * @param interEventDelay pause before each event after the first
 * @param hang            whether to never answer at all (a scripted timeout); the other fields then
 *                        describe a 504 that must not be sent
 */
public record MockReply(int status, Headers headers, Duration delay, byte[] body, List<byte[]> events,
                        Duration interEventDelay, boolean hang) {

    private static final byte[] EMPTY = new byte[0];

    public MockReply {
        Objects.requireNonNull(headers, "headers");
        Objects.requireNonNull(delay, "delay");
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(interEventDelay, "interEventDelay");
        events = List.copyOf(events);
        if (status < 100 || status > 599) {
            throw new IllegalArgumentException("status: " + status + " (expected: 100..599)");
        }
        if (delay.isNegative()) {
            throw new IllegalArgumentException("delay: " + delay + " (expected: >= 0)");
        }
        if (interEventDelay.isNegative()) {
            throw new IllegalArgumentException("interEventDelay: " + interEventDelay + " (expected: >= 0)");
        }
        if (!events.isEmpty() && body.length > 0) {
            throw new IllegalArgumentException(
                    "body: " + body.length + " bytes with " + events.size() + " events (expected: one or the other)");
        }
    }

    /** Returns a complete, non-streamed reply. */
    static MockReply full(int status, Headers headers, Duration delay, byte[] body) {
        return new MockReply(status, headers, delay, body, List.of(), Duration.ZERO, false);
    }

    /** Returns a streamed 200 reply. */
    static MockReply stream(Headers headers, Duration delay, List<byte[]> events, Duration interEventDelay) {
        return new MockReply(200, headers, delay, EMPTY, events, interEventDelay, false);
    }

    /** Returns a reply that never answers; {@code placeholder} is what it would be if it did. */
    static MockReply hanging(MockReply placeholder) {
        return new MockReply(placeholder.status, placeholder.headers, placeholder.delay, placeholder.body,
                             List.of(), Duration.ZERO, true);
    }

    /** Returns whether the body is sent as server-sent {@link #events()}. */
    public boolean streamed() {
        return !events.isEmpty();
    }

    @Override
    public String toString() {
        // The default would print array identities; sizes say more in a failed assertion.
        return "MockReply[status=" + status + ", headers=" + headers + ", delay=" + delay + ", body=" + body.length
               + " bytes, events=" + events.size() + ", interEventDelay=" + interEventDelay + ", hang=" + hang + ']';
    }
}
