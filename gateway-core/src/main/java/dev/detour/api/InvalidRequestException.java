package dev.detour.api;

/**
 * A request body that cannot be routed: not JSON, not an object, or missing a usable {@code model}.
 *
 * <p>Carries no stack trace: it is an answer for the client, not a bug report.
 */
public final class InvalidRequestException extends Exception {

    private static final long serialVersionUID = 1L;

    private final String param;
    private final String code;

    /** Creates an exception with a client-facing {@code message}, the field at fault and an error code. */
    public InvalidRequestException(String message, String param, String code) {
        super(message, null, false, false);
        this.param = param;
        this.code = code;
    }

    /** Returns the request field at fault, or {@code null}. */
    public String param() {
        return param;
    }

    /** Returns OpenAI's error code, or {@code null}. */
    public String code() {
        return code;
    }
}
