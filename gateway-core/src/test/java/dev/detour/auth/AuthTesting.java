package dev.detour.auth;

import dev.detour.config.ClientConfig;
import dev.detour.config.KeyHash;
import dev.detour.filter.RequestContext;
import dev.detour.filter.RequestExecutor;
import dev.detour.testing.TestContexts;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Helpers for the auth tests: clients, and contexts carrying given headers. */
final class AuthTesting {

    private AuthTesting() {
    }

    /** Returns a client named {@code name} with key {@code key}, allowed {@code models}, never expiring. */
    static ClientConfig client(String name, String key, List<String> models) {
        return client(name, key, models, Optional.empty());
    }

    /** Returns a client like {@link #client(String, String, List)}, expiring at {@code expires}. */
    static ClientConfig client(String name, String key, List<String> models, Optional<Instant> expires) {
        return new ClientConfig(name, KeyHash.of(key), "team-" + name, "pro", models, Map.of("env", "prod"), expires,
                                Set.of("user"), List.of());
    }

    /** Returns a chat context for {@code model} whose request headers are {@code namesAndValues}. */
    static RequestContext context(String model, String... namesAndValues) {
        Map<String, String> headers = new HashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            headers.put(namesAndValues[i].toLowerCase(Locale.ROOT), namesAndValues[i + 1]);
        }
        RequestContext base = TestContexts.newContext(RequestExecutor.DIRECT,
                                                      "{\"model\":\"" + model + "\",\"messages\":[]}");
        return new RequestContext(base.requestId(), base.endpoint(),
                                  name -> headers.get(name.toString().toLowerCase(Locale.ROOT)), base.clientBody(),
                                  base.sniffed(), base.route(), base.executor(), 0L);
    }
}
