package dev.detour.provider;

import java.util.Objects;

/**
 * Thrown by a {@link ResponseTranslator} when an upstream stream reports an error in-band (an Anthropic
 * {@code error} event, an OpenAI {@code data: {"error": ...}} line, a Bedrock exception frame).
 *
 * <p>Before anything reached the client the router may still try another target; after that, the
 * server ends the client's stream with an error event carrying {@link #clientMessage()}.
 */
public final class StreamFailure extends Exception {

    private static final long serialVersionUID = 1L;

    private final transient UpstreamVerdict verdict;

    /** Creates a failure classified as {@code verdict}, with a message fit for the client. */
    public StreamFailure(UpstreamVerdict verdict, String clientMessage) {
        super(clientMessage, null, false, false);
        this.verdict = Objects.requireNonNull(verdict, "verdict");
    }

    /** Returns how the failure is classified. */
    public UpstreamVerdict verdict() {
        return verdict;
    }

    /** Returns the message for the client's error event. */
    public String clientMessage() {
        return getMessage();
    }
}
