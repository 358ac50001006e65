package dev.detour.server.metrics;

import dev.detour.auth.AdminAuth;
import dev.detour.config.MetricsConfig;
import dev.detour.error.ErrorKind;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestHeaders;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers a scrape: checks the method and, when {@code metrics.require-admin-key} is set, the admin key, then
 * renders the meters in the format the {@code Accept} header asks for (OpenMetrics for
 * {@code application/openmetrics-text}, the Prometheus text format otherwise).
 *
 * <p>Serves the main listener and the separate metrics listener alike. The request's headers are read before
 * {@link #respond} returns; rendering happens on the metrics thread ({@link GatewayMetrics#scrapeAsync}), so a
 * scrape never holds up an event loop. Stateless.
 */
public final class MetricsEndpoint {

    private static final Logger LOG = LoggerFactory.getLogger(MetricsEndpoint.class);

    private MetricsEndpoint() {
    }

    /**
     * Returns the answer to a {@code method} request for the metrics path with {@code headers}, under the
     * configuration in force ({@code config}, {@code admin}). The stage never fails: a failure is an error answer.
     */
    public static CompletionStage<GatewayResponse.Full> respond(GatewayMetrics metrics, MetricsConfig config,
                                                                AdminAuth admin, String method,
                                                                RequestHeaders headers) {
        if (!method.equals("GET") && !method.equals("HEAD")) {
            GatewayResponse.Full error = ErrorResponses.of(ErrorKind.METHOD_NOT_ALLOWED, "Method " + method
                    + " is not allowed on " + config.path() + ". Use GET.", "method_not_allowed", null);
            return CompletableFuture.completedFuture(
                    new GatewayResponse.Full(error.status(), error.headers().with("allow", "GET, HEAD"), error.body()));
        }
        if (config.requireAdminKey() && !admin.allows(headers)) {
            return CompletableFuture.completedFuture(ErrorResponses.of(ErrorKind.AUTHENTICATION, "Metrics need an "
                    + "admin key (one of auth.admin-keys, because metrics.require-admin-key is set), sent as "
                    + "'Authorization: Bearer YOUR_KEY' or in an x-api-key header; none was sent, or it is not an "
                    + "admin key.", "invalid_admin_key", null));
        }
        boolean openMetrics = wantsOpenMetrics(headers.get("accept"));
        Headers contentType = Headers.of("content-type", openMetrics ? GatewayMetrics.OPENMETRICS_FORMAT
                                                                     : GatewayMetrics.TEXT_FORMAT);
        return metrics.scrapeAsync(openMetrics).handle((body, error) -> {
            if (error == null) {
                return new GatewayResponse.Full(200, contentType, body);
            }
            Throwable cause = error instanceof CompletionException && error.getCause() != null
                              ? error.getCause() : error;
            if (cause instanceof RejectedExecutionException) {
                return ErrorResponses.of(ErrorKind.UNAVAILABLE, "Too many scrapes at once; retry later.",
                                         "metrics_busy", null);
            }
            LOG.error("rendering metrics failed", cause);
            return ErrorResponses.of(ErrorKind.INTERNAL, "Rendering the metrics failed; the gateway's log says why.",
                                     "internal_error", null);
        });
    }

    /** Returns whether {@code accept} names OpenMetrics text, as Prometheus sends it when it prefers that. */
    static boolean wantsOpenMetrics(String accept) {
        return accept != null && accept.toLowerCase(Locale.ROOT).contains("application/openmetrics-text");
    }
}
