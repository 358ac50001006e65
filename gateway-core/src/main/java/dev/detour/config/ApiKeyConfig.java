package dev.detour.config;

import java.util.Objects;

/**
 * One upstream API key of a provider.
 *
 * @param id    a name shown in logs, headers and admin output instead of the key
 * @param value the key itself
 */
public record ApiKeyConfig(String id, Secret value) {

    public ApiKeyConfig {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(value, "value");
    }
}
