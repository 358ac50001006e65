package dev.detour.server.admin;

import dev.detour.error.ErrorKind;
import dev.detour.error.ErrorResponses;
import dev.detour.filter.GatewayResponse;
import dev.detour.keys.KeyPool;
import dev.detour.keys.PooledKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Serves {@code POST /admin/keys/{provider}/{id}/disable|enable} and {@code POST /admin/keys/{id}/disable|enable}.
 *
 * <p>Disable takes the key out at once ({@link KeyPool#disableByOperator}): new requests skip it, requests
 * already sent with it finish, and no signal, probe or reload brings it back while its secret is configured.
 * Enable makes any key available again ({@link KeyPool#enable}). Key ids are unique per provider; the short
 * form works while the id is unique across providers (409 {@code ambiguous_key_id} otherwise). An unknown
 * provider or key is a 404 {@code key_not_found}. The answer is the key's new state, never the key.
 */
final class KeyAction implements AdminView {

    static final KeyAction INSTANCE = new KeyAction();

    private KeyAction() {
    }

    @Override
    public CompletionStage<GatewayResponse.Full> serve(AdminRequest request) {
        return CompletableFuture.completedFuture(act(request));
    }

    private static GatewayResponse.Full act(AdminRequest request) {
        String action = request.param("action");
        boolean disable = "disable".equals(action);
        if (!disable && !"enable".equals(action)) {
            return ErrorResponses.of(ErrorKind.NOT_FOUND, "Unknown key action '" + action + "'. Use POST "
                    + "/admin/keys/{provider}/{id}/disable or .../enable.", "unknown_url", null);
        }
        String id = request.param("id");
        Map<String, KeyPool> pools = request.active().routes().pools();
        KeyPool pool;
        PooledKey key;
        String provider = request.hasParam("provider") ? request.param("provider") : null;
        if (provider != null) {
            pool = pools.get(provider);
            key = pool == null ? null : pool.key(id);
            if (key == null) {
                return ErrorResponses.of(ErrorKind.NOT_FOUND, pool == null
                        ? "No provider '" + provider + "' in the running config (providers: " + pools.keySet() + ")."
                        : "Provider '" + provider + "' has no key with id '" + id + "'.", "key_not_found", null);
            }
        } else {
            List<String> owners = new ArrayList<>();
            pool = null;
            key = null;
            for (KeyPool p : pools.values()) {
                PooledKey k = p.key(id);
                if (k != null) {
                    owners.add(p.provider());
                    pool = p;
                    key = k;
                }
            }
            if (owners.isEmpty()) {
                return ErrorResponses.of(ErrorKind.NOT_FOUND, "No provider has a key with id '" + id + "'.",
                                         "key_not_found", null);
            }
            if (owners.size() > 1) {
                return ErrorResponses.of(ErrorKind.CONFLICT, "Key id '" + id + "' exists in several providers "
                        + owners + "; name one: POST /admin/keys/{provider}/" + id + "/" + action + ".",
                        "ambiguous_key_id", null);
            }
        }
        return apply(pool, key, action);
    }

    private static GatewayResponse.Full apply(KeyPool pool, PooledKey key, String action) {
        boolean changed = "disable".equals(action) ? pool.disableByOperator(key) : pool.enable(key);
        KeyPool.KeySnapshot state = snapshot(pool, key);
        return AdminJson.response(200, AdminJson.render(gen -> {
            gen.writeStartObject();
            gen.writeStringField("provider", key.provider());
            gen.writeStringField("id", key.id());
            gen.writeStringField("key", key.secret().masked());
            gen.writeStringField("action", action);
            gen.writeBooleanField("changed", changed);
            gen.writeStringField("state", state.state().name().toLowerCase());
            AdminJson.string(gen, "disabled_by", state.disabledBy());
            gen.writeEndObject();
        }));
    }

    private static KeyPool.KeySnapshot snapshot(KeyPool pool, PooledKey key) {
        for (KeyPool.KeySnapshot s : pool.snapshot()) {
            if (s.id().equals(key.id())) {
                return s;
            }
        }
        throw new IllegalStateException("key '" + key.id() + "' left its pool");
    }
}
