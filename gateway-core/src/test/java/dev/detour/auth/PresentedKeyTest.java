package dev.detour.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.detour.filter.RequestHeaders;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PresentedKeyTest {

    @Test
    void readsBearerTokenInAnySchemeCase() {
        assertEquals("k1", PresentedKey.from(headers("authorization", "Bearer k1")));
        assertEquals("k1", PresentedKey.from(headers("authorization", "bearer k1")));
        assertEquals("k1", PresentedKey.from(headers("authorization", "BEARER\tk1")));
        assertEquals("k1", PresentedKey.from(headers("authorization", "Bearer   k1  ")));
    }

    @Test
    void readsXApiKey() {
        assertEquals("k2", PresentedKey.from(headers("x-api-key", "k2")));
        assertEquals("k2", PresentedKey.from(headers("x-api-key", " k2 ")));
    }

    @Test
    void prefersBearer() {
        assertEquals("k1", PresentedKey.from(headers("authorization", "Bearer k1", "x-api-key", "k2")));
    }

    @Test
    void usesXApiKeyWhenAuthorizationIsAnotherScheme() {
        assertEquals("k2", PresentedKey.from(headers("authorization", "Basic abc", "x-api-key", "k2")));
        assertEquals("k2", PresentedKey.from(headers("authorization", "Bearer ", "x-api-key", "k2")));
    }

    @Test
    void returnsNullWithoutAKey() {
        assertNull(PresentedKey.from(headers()));
        assertNull(PresentedKey.from(headers("authorization", "Bearer")));
        assertNull(PresentedKey.from(headers("authorization", "Bearer    ")));
        assertNull(PresentedKey.from(headers("authorization", "Bearerk1")));
        assertNull(PresentedKey.from(headers("authorization", "Basic abc")));
        assertNull(PresentedKey.from(headers("authorization", "k1")));
        assertNull(PresentedKey.from(headers("x-api-key", "")));
    }

    private static RequestHeaders headers(String... namesAndValues) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            m.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return name -> m.get(name.toString().toLowerCase(Locale.ROOT));
    }
}
