package dev.detour.server.admin;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.detour.config.Bucket;
import dev.detour.config.ChainConfig;
import dev.detour.config.ClientConfig;
import dev.detour.config.LimitConfig;
import dev.detour.config.PolicyConfig;
import dev.detour.ratelimit.BucketKey;
import dev.detour.ratelimit.BucketStore;
import dev.detour.ratelimit.RateLimitStats;
import dev.detour.server.ActiveConfig;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Renders {@code GET /admin/limits}: every rate limit of the running version (global, per client, per policy)
 * with its scope and buckets, what it refused (and, for shadow limits, would have refused) since this version
 * was loaded, and the current level of its busiest-known buckets, at most {@value #MAX_BUCKETS} per limit.
 *
 * <p>Levels come from the server's bucket store, which outlives config versions; buckets idle for their refill
 * interval are gone (they would be full), so a scope without a bucket is at full capacity.
 */
final class LimitsView {

    static final int MAX_BUCKETS = 100;

    private LimitsView() {
    }

    static byte[] render(ActiveConfig active, BucketStore store) {
        ChainConfig chain = active.config().chain();
        Map<String, List<BucketStore.Level>> levels = new HashMap<>();
        for (BucketStore.Level level : store.levels(MAX_BUCKETS + 1)) {
            levels.computeIfAbsent(level.key().limit(), name -> new ArrayList<>()).add(level);
        }
        Optional<RateLimitStats> stats = active.rateLimits();
        return AdminJson.render(gen -> {
            gen.writeStartObject();
            gen.writeNumberField("version", active.version().number());
            gen.writeArrayFieldStart("limits");
            for (LimitConfig l : chain.limits()) {
                limit(gen, l, "limits", stats, levels);
            }
            for (ClientConfig c : chain.clients()) {
                for (LimitConfig l : c.limits()) {
                    limit(gen, l, "clients." + c.name(), stats, levels);
                }
            }
            for (PolicyConfig p : chain.policies()) {
                for (LimitConfig l : p.limits()) {
                    limit(gen, l, "policies." + p.name(), stats, levels);
                }
            }
            gen.writeEndArray();
            gen.writeEndObject();
        });
    }

    private static void limit(JsonGenerator gen, LimitConfig l, String definedIn, Optional<RateLimitStats> stats,
                              Map<String, List<BucketStore.Level>> levels) throws IOException {
        gen.writeStartObject();
        gen.writeStringField("name", l.name());
        gen.writeStringField("defined_in", definedIn);
        gen.writeStringField("scope", l.scope().yamlName());
        gen.writeBooleanField("shadow", l.shadow());
        bucket(gen, "requests", l.requests());
        bucket(gen, "tokens", l.tokens());
        gen.writeNumberField("refused", stats.map(s -> s.refused(l.name())).orElse(0L));
        gen.writeNumberField("shadow_refused", stats.map(s -> s.shadowRefused(l.name())).orElse(0L));
        List<BucketStore.Level> mine = levels.getOrDefault(l.name(), List.of());
        gen.writeArrayFieldStart("buckets");
        int shown = 0;
        for (BucketStore.Level level : mine) {
            BucketKey key = level.key();
            Optional<Bucket> shape = key.kind() == BucketKey.Kind.REQUESTS ? l.requests() : l.tokens();
            if (shape.isEmpty() || !shape.get().equals(key.bucket()) || shown == MAX_BUCKETS) {
                continue; // a bucket of the limit's earlier shape, idle until it expires
            }
            shown++;
            gen.writeStartObject();
            gen.writeStringField("kind", key.kind().name().toLowerCase());
            gen.writeStringField("scope_value", key.scopeKey());
            gen.writeNumberField("available", level.available());
            gen.writeNumberField("capacity", key.bucket().capacity());
            gen.writeEndObject();
        }
        gen.writeEndArray();
        gen.writeBooleanField("more_buckets", mine.size() > MAX_BUCKETS);
        gen.writeEndObject();
    }

    private static void bucket(JsonGenerator gen, String field, Optional<Bucket> bucket) throws IOException {
        if (bucket.isEmpty()) {
            gen.writeNullField(field);
            return;
        }
        gen.writeObjectFieldStart(field);
        gen.writeNumberField("capacity", bucket.get().capacity());
        gen.writeNumberField("per_ms", bucket.get().per().toMillis());
        gen.writeEndObject();
    }
}
