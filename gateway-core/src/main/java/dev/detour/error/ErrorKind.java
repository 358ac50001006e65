package dev.detour.error;

/**
 * The kinds of error Detour itself produces, each fixing the HTTP status and the OpenAI {@code type}.
 *
 * <p>OpenAI's SDKs pick their exception class from the status and read {@code error.type},
 * {@code error.code} and {@code error.message}; keeping status and type together here means no
 * call site can pair them wrongly.
 */
public enum ErrorKind {
    INVALID_REQUEST(400, "invalid_request_error"),
    AUTHENTICATION(401, "authentication_error"),
    PERMISSION(403, "permission_error"),
    NOT_FOUND(404, "not_found_error"),
    METHOD_NOT_ALLOWED(405, "invalid_request_error"),
    REQUEST_TIMEOUT(408, "invalid_request_error"),
    CONFLICT(409, "invalid_request_error"),
    PAYLOAD_TOO_LARGE(413, "invalid_request_error"),
    URI_TOO_LONG(414, "invalid_request_error"),
    UNSUPPORTED_MEDIA_TYPE(415, "invalid_request_error"),
    EXPECTATION_FAILED(417, "invalid_request_error"),
    UNPROCESSABLE(422, "invalid_request_error"),
    HEADERS_TOO_LARGE(431, "invalid_request_error"),
    RATE_LIMITED(429, "rate_limit_error"),
    INTERNAL(500, "server_error"),
    UPSTREAM(502, "upstream_error"),
    UNAVAILABLE(503, "service_unavailable_error"),
    TIMEOUT(504, "timeout_error");

    private final int status;
    private final String type;

    ErrorKind(int status, String type) {
        this.status = status;
        this.type = type;
    }

    /** Returns the HTTP status sent with this kind. */
    public int status() {
        return status;
    }

    /** Returns the OpenAI {@code error.type} value. */
    public String type() {
        return type;
    }
}
