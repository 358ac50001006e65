package dev.detour.auth;

import dev.detour.config.ClientConfig;
import dev.detour.config.KeyHash;
import dev.detour.filter.Caller;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The configured clients, found by the SHA-256 of their key.
 *
 * <p>A lookup hashes the presented key once and finds the client under that digest, then confirms the
 * match with {@link KeyHash#matches(KeyHash)}, in constant time. The hash map's own probing compares
 * digests, not keys: timing it tells a caller nothing about any configured key, because finding a key
 * from its digest means inverting SHA-256.
 *
 * <p>Immutable and thread-safe; built once per config.
 */
final class ClientKeyStore {

    private final Map<KeyHash, Client> byHash;

    private ClientKeyStore(Map<KeyHash, Client> byHash) {
        this.byHash = byHash;
    }

    /**
     * Returns a store of {@code clients}.
     *
     * @throws IllegalArgumentException if two clients share a key hash
     */
    static ClientKeyStore of(List<ClientConfig> clients) {
        Map<KeyHash, Client> byHash = new HashMap<>(clients.size() * 2);
        for (ClientConfig c : clients) {
            Client previous = byHash.putIfAbsent(c.keyHash(), new Client(c));
            if (previous != null) {
                // Name the clients, never the hash: a hash pasted in the wrong place may be a key.
                throw new IllegalArgumentException("clients '" + previous.config.name() + "' and '" + c.name()
                                                   + "' have the same key hash (expected: one key per client)");
            }
        }
        return new ClientKeyStore(Map.copyOf(byHash));
    }

    /** Returns the client whose key is {@code key}, or {@code null} when none is. */
    Client find(String key) {
        KeyHash presented = KeyHash.of(key);
        Client client = byHash.get(presented);
        return client != null && client.config.keyHash().matches(presented) ? client : null;
    }

    /** Returns how many clients there are. */
    int size() {
        return byHash.size();
    }

    /** One client with what each request needs, computed once. */
    static final class Client {
        final ClientConfig config;
        final Caller caller;
        /** When the key stops working, or {@code null} if it never does. */
        final Instant expires;
        final List<String> allowedModels;
        /** The allowed models as a message fragment. */
        final String allowedText;

        Client(ClientConfig config) {
            this.config = Objects.requireNonNull(config, "config");
            this.caller = new Caller(config.name(), config.team(), config.tier(), config.metadata(),
                                     config.canOverride());
            this.expires = config.expires().orElse(null);
            this.allowedModels = config.allowedModels();
            this.allowedText = allowedModels.isEmpty() ? "no models (its allowed-models list is empty)"
                    : String.join(", ", allowedModels);
        }
    }
}
