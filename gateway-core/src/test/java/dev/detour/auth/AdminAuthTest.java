package dev.detour.auth;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.config.KeyHash;
import dev.detour.filter.RequestHeaders;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdminAuthTest {

    private static final String ADMIN_1 = "dtr_admin1XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX";
    private static final String ADMIN_2 = "dtr_admin2YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY";

    private final AdminAuth admin = new AdminAuth(List.of(KeyHash.of(ADMIN_1), KeyHash.of(ADMIN_2)));

    @Test
    void isConfiguredOnlyWithKeys() {
        assertTrue(admin.configured());
        assertFalse(new AdminAuth(List.of()).configured());
    }

    @Test
    void allowsEveryAdminKeyInBothHeaderForms() {
        assertTrue(admin.allows(headers("authorization", "Bearer " + ADMIN_1)));
        assertTrue(admin.allows(headers("authorization", "bearer " + ADMIN_2)));
        assertTrue(admin.allows(headers("x-api-key", ADMIN_1)));
        assertTrue(admin.allows(headers("x-api-key", ADMIN_2)));
    }

    @Test
    void refusesMissingWrongAndNearMissKeys() {
        assertFalse(admin.allows(headers()));
        assertFalse(admin.allows(headers("authorization", "Bearer ")));
        assertFalse(admin.allows(headers("authorization", "Basic " + ADMIN_1)));
        assertFalse(admin.allows(headers("x-api-key", "dtr_wrong")));
        assertFalse(admin.allows(headers("x-api-key", ADMIN_1.substring(0, ADMIN_1.length() - 1) + "Z")));
        assertFalse(admin.allows(headers("x-api-key", ADMIN_1 + "X")));
        assertFalse(admin.allows(headers("x-api-key", KeyHash.of(ADMIN_1).text())));
    }

    @Test
    void allowsNobodyWhenNotConfigured() {
        AdminAuth none = new AdminAuth(List.of());

        assertFalse(none.allows(headers("x-api-key", ADMIN_1)));
        assertFalse(none.allows(headers()));
    }

    @Test
    void rejectsNulls() {
        assertThrows(NullPointerException.class, () -> new AdminAuth(null));
        assertThrows(NullPointerException.class, () -> admin.allows(null));
    }

    @Test
    void neverPrintsKeys() {
        assertFalse(admin.toString().contains("sha256"), admin.toString());
    }

    private static RequestHeaders headers(String... namesAndValues) {
        Map<String, String> m = new java.util.HashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            m.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return name -> m.get(name.toString().toLowerCase(java.util.Locale.ROOT));
    }
}
