package dev.detour.server.admin;

import dev.detour.cache.CacheStats;
import dev.detour.cache.ResponseCache;
import java.util.concurrent.CompletableFuture;

/**
 * Renders {@code GET /admin/cache}: the response cache's counters since start (hits, single-flight waits,
 * stale answers, misses, bypasses, stores, answers too large to store, evictions, expirations) and its size
 * against its bound; and answers {@code POST /admin/cache/clear}, which drops every entry (after a provider
 * returned bad answers that were cached, say).
 */
final class CacheView {

    private CacheView() {
    }

    /** Returns the view of {@code stats}. */
    static byte[] render(CacheStats s) {
        return AdminJson.render(gen -> {
            gen.writeStartObject();
            gen.writeNumberField("hits", s.hits());
            gen.writeNumberField("coalesced", s.coalesced());
            gen.writeNumberField("stale_hits", s.staleHits());
            gen.writeNumberField("misses", s.misses());
            gen.writeNumberField("bypasses", s.bypasses());
            gen.writeNumberField("stores", s.stores());
            gen.writeNumberField("too_large", s.tooLarge());
            gen.writeNumberField("evictions", s.evictions());
            gen.writeNumberField("expirations", s.expirations());
            gen.writeNumberField("entries", s.entries());
            gen.writeNumberField("bytes", s.bytes());
            gen.writeNumberField("max_bytes", s.maxBytes());
            gen.writeEndObject();
        });
    }

    /** Returns the action that empties {@code cache} and answers with its stats afterwards. */
    static AdminView clear(ResponseCache cache) {
        return request -> {
            cache.clear();
            return CompletableFuture.completedFuture(AdminJson.response(200, render(cache.stats())));
        };
    }
}
