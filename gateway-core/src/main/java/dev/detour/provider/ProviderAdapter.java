package dev.detour.provider;

import dev.detour.api.InvalidRequestException;
import dev.detour.config.ApiKeyConfig;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.Headers;
import dev.detour.filter.RequestContext;
import dev.detour.routing.Target;
import java.time.Instant;

/**
 * Everything dialect-specific about one provider family: request translation, classification of its
 * answers for the router, and translation of its errors for the client. Pure: no I/O.
 *
 * <p>Implementations are stateless and thread-safe; per-exchange state lives in the
 * {@link ResponseTranslator} that {@link #prepare} creates.
 */
public interface ProviderAdapter {

    /**
     * Prepares the upstream request of {@code ctx} for {@code target} using {@code key}.
     *
     * @throws InvalidRequestException if the request asks for something this provider cannot do;
     *                                 the client gets a 400 naming it
     */
    UpstreamRequest prepare(RequestContext ctx, Target target, ApiKeyConfig key) throws InvalidRequestException;

    /**
     * Classifies an answer: an error ({@code status >= 400}, with its body) or a success (status 2xx,
     * empty body: only its rate-limit headers matter, for proactive cooling).
     *
     * @param now the current time, for reset hints given as dates
     */
    UpstreamVerdict classify(int status, Headers headers, byte[] body, Instant now);

    /**
     * Returns the error the client sees for an upstream error answer, in OpenAI's envelope, keeping the
     * provider's own message text and a faithful status.
     */
    GatewayResponse.Full clientError(int status, Headers headers, byte[] body, UpstreamVerdict verdict);
}
