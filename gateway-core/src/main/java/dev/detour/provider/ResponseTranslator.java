package dev.detour.provider;

import java.nio.ByteBuffer;

/**
 * Turns one upstream response of a foreign dialect into OpenAI's format.
 *
 * <p>One per exchange; not thread-safe (the server calls it on the request's event loop only). A
 * provider that already speaks OpenAI's dialect has no translator: its bytes pass through untouched.
 */
public interface ResponseTranslator {

    /**
     * Translates a complete, successful, non-streamed body into OpenAI JSON
     * ({@code chat.completion}, {@code text_completion} or an embeddings list).
     *
     * @throws TranslationException if the body is not what the provider documents
     */
    byte[] translateBody(byte[] upstreamBody) throws TranslationException;

    /**
     * Consumes the next bytes of a successful streamed body (any framing: SSE, AWS event stream) and
     * writes zero or more complete OpenAI SSE events ({@code data: {...}\n\n}) to {@code out}. Bytes
     * may split events anywhere; the translator keeps what it cannot use yet.
     *
     * @throws StreamFailure if the stream reports an error in-band
     * @throws TranslationException if the bytes are not what the provider documents
     */
    void translateStream(ByteBuffer upstreamBytes, ByteSink out) throws StreamFailure, TranslationException;

    /**
     * Ends the stream: writes any final events (usage chunk when asked, {@code data: [DONE]}).
     *
     * @throws StreamFailure if the stream ended without its documented end (e.g. no {@code message_stop})
     */
    void endStream(ByteSink out) throws StreamFailure;

    /**
     * Returns whether this translator only applies to answers that are event streams
     * ({@code text/event-stream}), other answers passing through untouched: true for a filter over OpenAI's own
     * dialect, false (the default) for a foreign dialect, whose every answer needs translating.
     */
    default boolean eventStreamsOnly() {
        return false;
    }

    /** A response that does not follow the provider's documented format. */
    final class TranslationException extends Exception {
        private static final long serialVersionUID = 1L;

        /** Creates an exception with a secret-free message naming what was unexpected. */
        public TranslationException(String message) {
            super(message, null, false, false);
        }
    }
}
