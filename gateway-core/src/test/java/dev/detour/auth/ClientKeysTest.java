package dev.detour.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ClientKeysTest {

    @Test
    void makesPrefixedUrlSafeKeysOf256Bits() {
        String key = ClientKeys.newKey();

        assertTrue(key.startsWith("dtr_"), key);
        assertEquals(4 + 43, key.length(), key);
        assertTrue(key.substring(4).matches("[A-Za-z0-9_-]{43}"), key);
    }

    @Test
    void makesADifferentKeyEachTime() {
        Set<String> keys = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            keys.add(ClientKeys.newKey());
        }

        assertEquals(1000, keys.size());
    }
}
