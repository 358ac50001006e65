package dev.detour.server.reload;

import dev.detour.config.GatewayConfig;
import dev.detour.config.LoggingConfig;
import dev.detour.config.ServerConfig;
import dev.detour.config.UpstreamConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A setting that a reload cannot apply because it is bound when the gateway starts, with the value in use and
 * the value the file now has. A reload applies everything else and reports these; a restart applies them.
 *
 * <p>Restart-only settings: {@code server.host}, {@code server.port}, {@code server.transport},
 * {@code server.io-threads} (the listener and its event loops), {@code server.watch-config} (the watcher is
 * started with the gateway), and {@code upstream.max-idle-connections}, {@code upstream.pool-idle-timeout},
 * {@code upstream.max-error-body-size}, {@code upstream.ca-file} (the upstream client and its connection pools),
 * {@code logging.access-log-flush-interval} and {@code logging.access-log-queue-size} (the access log's writer).
 * The other {@code server} limits apply to connections opened after the reload.
 *
 * @param field      the setting, as written in YAML, e.g. {@code server.port}
 * @param running    the value in use
 * @param configured the value in the file
 */
public record RestartOnlyChange(String field, String running, String configured) {

    public RestartOnlyChange {
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(running, "running");
        Objects.requireNonNull(configured, "configured");
    }

    /** Returns the restart-only settings whose value in {@code next} differs from {@code running}, in YAML order. */
    public static List<RestartOnlyChange> between(GatewayConfig running, GatewayConfig next) {
        List<RestartOnlyChange> out = new ArrayList<>();
        ServerConfig a = running.server();
        ServerConfig b = next.server();
        compare(out, "server.host", a.host(), b.host());
        compare(out, "server.port", a.port(), b.port());
        compare(out, "server.transport", a.transport().name().toLowerCase(), b.transport().name().toLowerCase());
        compare(out, "server.io-threads", a.ioThreads(), b.ioThreads());
        compare(out, "server.watch-config", a.watchConfig(), b.watchConfig());
        UpstreamConfig u = running.upstream();
        UpstreamConfig v = next.upstream();
        compare(out, "upstream.max-idle-connections", u.maxIdleConnections(), v.maxIdleConnections());
        compare(out, "upstream.pool-idle-timeout", u.poolIdleTimeout(), v.poolIdleTimeout());
        compare(out, "upstream.max-error-body-size", u.maxErrorBodySize(), v.maxErrorBodySize());
        compare(out, "upstream.ca-file", u.caFile().map(Object::toString).orElse("(none)"),
                v.caFile().map(Object::toString).orElse("(none)"));
        LoggingConfig l = running.logging();
        LoggingConfig m = next.logging();
        compare(out, "logging.access-log-flush-interval", l.flushInterval(), m.flushInterval());
        compare(out, "logging.access-log-queue-size", l.queueSize(), m.queueSize());
        return List.copyOf(out);
    }

    private static void compare(List<RestartOnlyChange> out, String field, Object running, Object next) {
        if (!running.equals(next)) {
            out.add(new RestartOnlyChange(field, String.valueOf(running), String.valueOf(next)));
        }
    }

    /** Returns e.g. {@code server.port: 8080 -> 9090}. */
    @Override
    public String toString() {
        return field + ": " + running + " -> " + configured;
    }
}
