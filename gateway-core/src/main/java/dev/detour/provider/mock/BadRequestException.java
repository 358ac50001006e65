package dev.detour.provider.mock;

/**
 * Thrown while reading a request the mock cannot answer; the responder turns it into a 400 in
 * OpenAI's envelope. The gateway validates requests before they reach a provider, so this is a
 * fallback that keeps the mock honest rather than a path clients normally see.
 */
final class BadRequestException extends Exception {

    private static final long serialVersionUID = 1L;

    private final String param;
    private final String code;

    /**
     * Creates an exception whose message is safe to send to the client.
     *
     * @param param the request field at fault, or {@code null}
     * @param code  OpenAI's {@code error.code}, or {@code null}
     */
    BadRequestException(String message, String param, String code) {
        super(message, null, false, false);
        this.param = param;
        this.code = code;
    }

    String param() {
        return param;
    }

    String code() {
        return code;
    }
}
