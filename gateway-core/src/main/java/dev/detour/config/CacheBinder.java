package dev.detour.config;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Binds the response cache's sections: the top-level {@code cache} and each route's {@code cache}.
 * Collects problems like the rest of the binder.
 */
final class CacheBinder {

    private static final Map<String, CacheConfig.Scope> SCOPES = new LinkedHashMap<>();

    static {
        for (CacheConfig.Scope s : CacheConfig.Scope.values()) {
            SCOPES.put(s.yamlName(), s);
        }
    }

    private CacheBinder() {
    }

    /** Binds the top-level {@code cache} section. */
    static CacheConfig global(YamlNode node) {
        YamlMapping m = node.asMapping("max-size", "ttl", "max-ttl", "max-entry-size", "scope",
                                       "count-hits-toward-limits", "single-flight-timeout");
        CacheConfig d = CacheConfig.ofDefault();
        long maxSize = m.get("max-size").flatMap(n -> n.size(1, Long.MAX_VALUE)).orElse(d.maxSize());
        long maxEntrySize = m.get("max-entry-size").flatMap(n -> n.size(1, Integer.MAX_VALUE))
                .orElse(Math.min(d.maxEntrySize(), maxSize));
        if (maxEntrySize > maxSize) {
            m.get("max-entry-size").ifPresent(n -> n.report("expected at most max-size (" + maxSize + " bytes), got "
                                                            + maxEntrySize + " bytes"));
        }
        return new CacheConfig(
                maxSize,
                positive(m, "ttl").orElse(d.ttl()),
                positive(m, "max-ttl").orElse(d.maxTtl()),
                Math.min(maxEntrySize, maxSize),
                m.get("scope").flatMap(n -> n.oneOf(SCOPES)).orElse(d.scope()),
                m.get("count-hits-toward-limits").flatMap(YamlNode::bool).orElse(d.countHitsTowardLimits()),
                m.get("single-flight-timeout").flatMap(YamlNode::duration).orElse(d.singleFlightTimeout()));
    }

    /** Binds a route's {@code cache} section. */
    static RouteCacheConfig route(YamlNode node) {
        YamlMapping m = node.asMapping("enabled", "ttl", "scope", "max-entry-size", "stale-if-exhausted");
        boolean enabled = m.get("enabled").flatMap(YamlNode::bool).orElse(false);
        Optional<Duration> ttl = positive(m, "ttl");
        Optional<CacheConfig.Scope> scope = m.get("scope").flatMap(n -> n.oneOf(SCOPES));
        OptionalLong maxEntrySize = m.get("max-entry-size").flatMap(n -> n.size(1, Integer.MAX_VALUE))
                .map(OptionalLong::of).orElse(OptionalLong.empty());
        Optional<Duration> stale = m.get("stale-if-exhausted").flatMap(YamlNode::duration);
        if (m.get("enabled").isEmpty() && !m.entries().isEmpty()) {
            node.report("cache settings without 'enabled: true' have no effect: caching is off for a route "
                        + "unless enabled");
        }
        return new RouteCacheConfig(enabled, ttl, scope, maxEntrySize, stale);
    }

    /** Returns a duration above zero, reporting zero (which would mean "never served"). */
    private static Optional<Duration> positive(YamlMapping m, String key) {
        Optional<YamlNode> node = m.get(key);
        Optional<Duration> d = node.flatMap(YamlNode::duration);
        if (d.isPresent() && d.get().isZero()) {
            node.get().report("expected a duration above 0, such as 10m or 1h (to stop caching, set enabled: false)");
            return Optional.empty();
        }
        return d;
    }
}
