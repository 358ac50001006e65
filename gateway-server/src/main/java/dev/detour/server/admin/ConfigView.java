package dev.detour.server.admin;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.detour.config.GatewayConfig;
import dev.detour.server.ActiveConfig;
import dev.detour.server.GatewayServer;
import dev.detour.server.reload.ConfigReloads;
import dev.detour.server.reload.ConfigVersion;
import dev.detour.server.reload.ReloadResult;
import dev.detour.server.reload.RestartOnlyChange;
import java.io.IOException;
import java.util.Optional;

/**
 * Renders {@code GET /admin/config}: the version running (counter, SHA-256 of the file, source, load time),
 * whether the file is watched, the reload record (counts, last attempt, last refusal with its problems),
 * restart-only settings the file changed, and a summary of the config. No setting values that could be
 * secret: counts and names only.
 */
final class ConfigView {

    private ConfigView() {
    }

    static byte[] render(GatewayServer server, ActiveConfig active) {
        ConfigReloads reloads = server.reloads();
        return AdminJson.render(gen -> {
            gen.writeStartObject();
            gen.writeFieldName("version");
            version(gen, active.version());
            gen.writeBooleanField("reloadable", server.source().isPresent());
            gen.writeBooleanField("watching", server.watching());
            gen.writeObjectFieldStart("reloads");
            gen.writeNumberField("applied", reloads.successes());
            gen.writeNumberField("refused", reloads.failures());
            AdminJson.instant(gen, "last_applied_at", reloads.lastSuccess());
            gen.writeFieldName("last_attempt");
            attempt(gen, reloads.lastAttempt());
            gen.writeFieldName("last_error");
            attempt(gen, reloads.lastFailure());
            gen.writeEndObject();
            gen.writeFieldName("pending_restart");
            restartNeeded(gen, reloads);
            GatewayConfig c = active.config();
            gen.writeObjectFieldStart("summary");
            gen.writeNumberField("providers", c.providers().size());
            gen.writeNumberField("routes", c.routes().size());
            gen.writeNumberField("clients", c.chain().clients().size());
            gen.writeNumberField("limits", c.chain().limits().size());
            gen.writeNumberField("policies", c.chain().policies().size());
            gen.writeBooleanField("auth_enabled", c.chain().auth().enabled());
            gen.writeNumberField("admin_keys", c.chain().auth().adminKeys().size());
            gen.writeEndObject();
            gen.writeEndObject();
        });
    }

    /** Writes {@code v} as {@code {"number","sha256","source","loaded_at"}}. */
    static void version(JsonGenerator gen, ConfigVersion v) throws IOException {
        gen.writeStartObject();
        gen.writeNumberField("number", v.number());
        AdminJson.string(gen, "sha256", v.sha256().orElse(null));
        gen.writeStringField("source", v.source());
        gen.writeStringField("loaded_at", v.loadedAt().toString());
        gen.writeEndObject();
    }

    /** Writes the restart-only settings whose file value differs from the running one. */
    static void restartNeeded(JsonGenerator gen, ConfigReloads reloads) throws IOException {
        restartNeeded(gen, reloads.pendingRestart());
    }

    static void restartNeeded(JsonGenerator gen, Iterable<RestartOnlyChange> changes) throws IOException {
        gen.writeStartArray();
        for (RestartOnlyChange c : changes) {
            gen.writeStartObject();
            gen.writeStringField("field", c.field());
            gen.writeStringField("running", c.running());
            gen.writeStringField("configured", c.configured());
            gen.writeEndObject();
        }
        gen.writeEndArray();
    }

    private static void attempt(JsonGenerator gen, Optional<ReloadResult> result) throws IOException {
        if (result.isEmpty()) {
            gen.writeNull();
            return;
        }
        ReloadResult r = result.get();
        gen.writeStartObject();
        gen.writeStringField("at", r.at().toString());
        gen.writeStringField("trigger", r.trigger());
        gen.writeStringField("outcome", r.outcome().name().toLowerCase());
        gen.writeNumberField("version", r.version().number());
        gen.writeArrayFieldStart("problems");
        for (String p : r.problems()) {
            gen.writeString(p);
        }
        gen.writeEndArray();
        gen.writeEndObject();
    }
}
