package dev.detour.config;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One upstream provider: where it is, how to authenticate, which keys it has.
 *
 * @param name    the name routes refer to
 * @param type    the dialect, which picks the adapter
 * @param baseUrl base URL that endpoint paths are appended to, e.g. {@code https://api.openai.com/v1};
 *                unused by {@code mock}
 * @param keys    the key pool, in file order; may be empty for providers that need no key
 * @param headers extra headers sent with every request to this provider (e.g. {@code OpenAI-Organization})
 * @param mock    behaviour of a {@code mock} provider; {@link MockConfig#DEFAULT} for other types
 * @param options dialect-specific settings (see {@link ProviderType}), every known option present with its
 *                value or default
 * @param pool    how the key pool picks keys and reacts to limit signals
 */
public record ProviderConfig(String name, ProviderType type, URI baseUrl, List<ApiKeyConfig> keys,
                             Map<String, String> headers, MockConfig mock, Map<String, String> options,
                             PoolConfig pool) {

    public ProviderConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(baseUrl, "baseUrl");
        Objects.requireNonNull(mock, "mock");
        Objects.requireNonNull(pool, "pool");
        keys = List.copyOf(keys);
        headers = Map.copyOf(headers);
        options = Map.copyOf(options);
    }

    /** Returns a provider without options, with the default pool. */
    public ProviderConfig(String name, ProviderType type, URI baseUrl, List<ApiKeyConfig> keys,
                          Map<String, String> headers, MockConfig mock) {
        this(name, type, baseUrl, keys, headers, mock, Map.of(), PoolConfig.DEFAULT);
    }

    /** Returns a provider with the default pool. */
    public ProviderConfig(String name, ProviderType type, URI baseUrl, List<ApiKeyConfig> keys,
                          Map<String, String> headers, MockConfig mock, Map<String, String> options) {
        this(name, type, baseUrl, keys, headers, mock, options, PoolConfig.DEFAULT);
    }

    /** Returns option {@code name}, or its default for this type. */
    public String option(String name) {
        String value = options.get(name);
        return value != null ? value : type.optionDefault(name);
    }

    /** Prints header names only: a header may carry a credential (e.g. Azure's {@code api-key}). */
    @Override
    public String toString() {
        return "ProviderConfig[name=" + name + ", type=" + type.yamlName() + ", baseUrl=" + baseUrl + ", keys=" + keys
               + ", headers=" + new java.util.TreeSet<>(headers.keySet()) + ", mock=" + mock + ", options=" + options + ", pool=" + pool + "]";
    }
}
