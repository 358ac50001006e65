package dev.detour.server.metrics;

import dev.detour.auth.AdminAuth;
import dev.detour.config.MetricsConfig;
import dev.detour.error.ErrorKind;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestHeaders;
import java.util.Locale;

/**
 * Answers a scrape: checks the method and, when {@code metrics.require-admin-key} is set, the admin key, then
 * renders the meters in the format the {@code Accept} header asks for (OpenMetrics for
 * {@code application/openmetrics-text}, the Prometheus text format otherwise).
 *
 * <p>Serves the main listener and the separate metrics listener alike. Rendering is CPU-only and proportional
 * to the number of series, so it runs on the event loop. Stateless.
 */
public final class MetricsEndpoint {

    private MetricsEndpoint() {
    }

    /**
     * Returns the answer to a {@code method} request for the metrics path with {@code headers}, under the
     * configuration in force ({@code config}, {@code admin}).
     */
    public static GatewayResponse.Full respond(GatewayMetrics metrics, MetricsConfig config, AdminAuth admin,
                                               String method, RequestHeaders headers) {
        if (!method.equals("GET") && !method.equals("HEAD")) {
            GatewayResponse.Full error = ErrorResponses.of(ErrorKind.METHOD_NOT_ALLOWED, "Method " + method
                    + " is not allowed on " + config.path() + ". Use GET.", "method_not_allowed", null);
            return new GatewayResponse.Full(error.status(), error.headers().with("allow", "GET, HEAD"), error.body());
        }
        if (config.requireAdminKey() && !admin.allows(headers)) {
            return ErrorResponses.of(ErrorKind.AUTHENTICATION, "Metrics need an admin key (one of auth.admin-keys, "
                    + "because metrics.require-admin-key is set), sent as 'Authorization: Bearer YOUR_KEY' or in an "
                    + "x-api-key header; none was sent, or it is not an admin key.", "invalid_admin_key", null);
        }
        boolean openMetrics = wantsOpenMetrics(headers.get("accept"));
        byte[] body = metrics.scrape(openMetrics);
        return new GatewayResponse.Full(200, Headers.of("content-type", openMetrics
                ? GatewayMetrics.OPENMETRICS_FORMAT : GatewayMetrics.TEXT_FORMAT), body);
    }

    /** Returns whether {@code accept} names OpenMetrics text, as Prometheus sends it when it prefers that. */
    static boolean wantsOpenMetrics(String accept) {
        return accept != null && accept.toLowerCase(Locale.ROOT).contains("application/openmetrics-text");
    }
}
