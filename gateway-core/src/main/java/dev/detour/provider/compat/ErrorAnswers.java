package dev.detour.provider.compat;

import dev.detour.error.ErrorResponses;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.provider.UpstreamVerdict;

/**
 * Builds the error a client sees for an error answer of an OpenAI-dialect host (the presets and Azure), in
 * OpenAI's envelope, keeping the provider's message and a faithful status. Thread-safe, stateless.
 *
 * <ul>
 *   <li>A body already in OpenAI's envelope with string fields passes through byte for byte, headers included
 *       ({@code retry-after} reaches the client's SDK).</li>
 *   <li>Other shapes (numeric {@code code}, flat objects, {@code {"error":"text"}}) are rewritten into the
 *       envelope; extra fields such as OpenRouter's {@code metadata.raw} (a raw upstream body) are left out.</li>
 *   <li>A rejected key ({@link UpstreamVerdict.Kind#KEY_INVALID}) is about the gateway's key, not the client's:
 *       the status stays, the message says so, and anything in the provider's text that looks like a key (even
 *       masked, {@code sk-…abcd}) is removed.</li>
 *   <li>Statuses SDKs do not know map to their nearest: Groq's 498 (flex capacity) and 529 (overloaded) become
 *       503.</li>
 * </ul>
 */
public final class ErrorAnswers {


    private ErrorAnswers() {
    }

    /** Returns the client's error for an upstream error answer classified as {@code verdict}. */
    public static GatewayResponse.Full of(int status, Headers headers, byte[] body, UpstreamVerdict verdict) {
        int clientStatus = status == 498 || status == 529 ? 503 : status;
        ProviderError error = ProviderError.parse(body).orElse(null);
        boolean keyProblem = verdict.kind() == UpstreamVerdict.Kind.KEY_INVALID;
        if (error != null && error.standard() && !keyProblem && clientStatus == status) {
            return new GatewayResponse.Full(status, headers, body);
        }
        String message;
        if (keyProblem) {
            String said = error == null || error.message().isEmpty() ? "" : ": " + redactKeys(error.message());
            message = "The provider rejected the gateway's key (HTTP " + status + said + "). This is not about your "
                      + "request or your key; the gateway operator must replace or re-enable the provider key.";
        } else if (error == null || error.message().isEmpty()) {
            message = "The provider answered HTTP " + status + " without an error description (" + verdict.detail()
                      + ").";
        } else {
            message = error.message();
        }
        String type = error != null && error.type() != null ? error.type() : typeFor(clientStatus);
        String code = error != null && error.code() != null ? error.code() : verdict.detail();
        String param = error == null ? null : error.param();
        return new GatewayResponse.Full(clientStatus, jsonHeaders(headers),
                                        ErrorResponses.body(type, message, code, param));
    }

    /** Returns {@code message} with anything that looks like an API key, whole or masked, replaced. */
    public static String redactKeys(String message) {
        return dev.detour.provider.KeyRedaction.redact(message);
    }

    /** Returns OpenAI's {@code error.type} for a status, for bodies that did not say. */
    static String typeFor(int status) {
        switch (status) {
            case 401:
                return "authentication_error";
            case 402:
                return "insufficient_quota";
            case 403:
                return "permission_error";
            case 404:
                return "not_found_error";
            case 408:
                return "timeout_error";
            case 429:
                return "rate_limit_error";
            case 503:
                return "service_unavailable_error";
            default:
                return status >= 500 ? "upstream_error" : "invalid_request_error";
        }
    }

    /** Returns the upstream's headers with its body's framing removed and a JSON content type. */
    private static Headers jsonHeaders(Headers upstream) {
        Headers.Builder b = Headers.builder().add("content-type", "application/json");
        for (int i = 0; i < upstream.size(); i++) {
            String name = upstream.name(i);
            if (!name.equalsIgnoreCase("content-type") && !name.equalsIgnoreCase("content-length")
                && !name.equalsIgnoreCase("content-encoding")) {
                b.add(name, upstream.value(i));
            }
        }
        return b.build();
    }
}
