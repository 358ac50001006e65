package dev.detour.auth;

import dev.detour.config.ClientConfig;
import dev.detour.config.Match;
import dev.detour.error.ErrorKind;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.FilterChain;
import dev.detour.filter.FilterOrder;
import dev.detour.filter.GatewayFilter;
import dev.detour.filter.GatewayResponse;
import dev.detour.filter.RequestContext;
import dev.detour.time.NanoClock;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Authenticates API requests by the Detour key they present, and sets the request's
 * {@link dev.detour.filter.Caller}.
 *
 * <p>The key is read from {@code Authorization: Bearer <key>} (scheme in any case) or, failing that,
 * {@code x-api-key}. Every refusal is an OpenAI-shaped response, in this order:
 * <ul>
 *   <li>no key: 401 {@code authentication_error}, code {@code missing_api_key};</li>
 *   <li>a key no client has: 401, code {@code invalid_api_key} (the key is never echoed, not even in part);</li>
 *   <li>the client's {@code expires} has passed: 401, code {@code expired_api_key}, naming the client and
 *       the instant;</li>
 *   <li>the requested model matches none of the client's {@code allowed-models} globs: 403
 *       {@code permission_error}, code {@code model_not_allowed}, naming the model and what it may call.</li>
 * </ul>
 *
 * <p>Stateless and thread-safe; built once per config. Per request it hashes the presented key once
 * (SHA-256) and allocates nothing else on success.
 */
public final class KeyAuthFilter implements GatewayFilter {

    /** The filter's name in config and logs. */
    public static final String NAME = "auth";

    private static final CompletionStage<GatewayResponse> MISSING = CompletableFuture.completedFuture(
            ErrorResponses.of(ErrorKind.AUTHENTICATION, "You didn't provide an API key. Send your Detour key in an "
                    + "Authorization header using Bearer auth (Authorization: Bearer YOUR_KEY), or in an x-api-key "
                    + "header.", "missing_api_key", null));
    private static final CompletionStage<GatewayResponse> INVALID = CompletableFuture.completedFuture(
            ErrorResponses.of(ErrorKind.AUTHENTICATION, "Incorrect API key provided.", "invalid_api_key", null));

    private final ClientKeyStore store;
    private final NanoClock clock;

    /**
     * Creates a filter for {@code clients}.
     *
     * @throws IllegalArgumentException if two clients share a key hash
     */
    public KeyAuthFilter(List<ClientConfig> clients, NanoClock clock) {
        this.store = ClientKeyStore.of(Objects.requireNonNull(clients, "clients"));
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public int order() {
        return FilterOrder.AUTH;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public CompletionStage<GatewayResponse> filter(RequestContext ctx, FilterChain next) {
        String key = PresentedKey.from(ctx.headers());
        if (key == null) {
            return MISSING;
        }
        ClientKeyStore.Client client = store.find(key);
        if (client == null) {
            return INVALID;
        }
        if (client.expires != null) {
            Instant now = clock.instant();
            // The key stops working at the configured instant, as the config documents.
            if (!now.isBefore(client.expires)) {
                return CompletableFuture.completedFuture(ErrorResponses.of(ErrorKind.AUTHENTICATION,
                        "The API key of client '" + client.config.name() + "' expired at " + client.expires
                        + ". Ask the gateway's operator for a new key.", "expired_api_key", null));
            }
        }
        String model = ctx.sniffed().model();
        ctx.caller(client.caller); // known from here on, so the access log names it even on a 403
        // An empty allowed-models list allows nothing (fail closed), unlike an empty Match list.
        if (client.allowedModels.isEmpty() || !Match.anyGlob(client.allowedModels, model)) {
            return CompletableFuture.completedFuture(ErrorResponses.of(ErrorKind.PERMISSION,
                    "Client '" + client.config.name() + "' is not allowed to use model '" + model + "'. It may use: "
                    + client.allowedText + ".", "model_not_allowed", "model"));
        }
        return next.proceed(ctx);
    }

    @Override
    public String toString() {
        return "KeyAuthFilter[" + store.size() + " clients]";
    }
}
