package dev.detour.auth;

import static dev.detour.auth.AuthTesting.client;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.detour.config.ClientConfig;
import dev.detour.config.KeyHash;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClientKeyStoreTest {

    @Test
    void findsEachClientByItsKeyAmongMany() {
        List<String> keys = new ArrayList<>();
        List<ClientConfig> clients = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            String key = ClientKeys.newKey();
            keys.add(key);
            clients.add(client("c" + i, key, List.of("*")));
        }

        ClientKeyStore store = ClientKeyStore.of(clients);

        assertEquals(200, store.size());
        for (int i = 0; i < 200; i++) {
            ClientKeyStore.Client found = store.find(keys.get(i));
            assertNotNull(found, "client " + i);
            assertSame(clients.get(i), found.config);
        }
    }

    @Test
    void findsNothingForAnUnknownKey() {
        ClientKeyStore store = ClientKeyStore.of(List.of(client("a", "dtr_a", List.of("*"))));

        assertNull(store.find("dtr_b"));
        assertNull(store.find(""));
        assertNull(store.find(KeyHash.of("dtr_a").text()));
    }

    @Test
    void buildsTheCallerOncePerClient() {
        ClientKeyStore store = ClientKeyStore.of(List.of(client("a", "dtr_a", List.of("*"))));

        assertSame(store.find("dtr_a").caller, store.find("dtr_a").caller);
        assertEquals("team-a", store.find("dtr_a").caller.team());
    }
}
