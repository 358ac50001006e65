/**
 * Hot reload of the config file: where it comes from ({@link dev.detour.server.reload.ConfigSource}), what
 * triggers a reload (the {@link dev.detour.server.reload.ConfigWatcher}, SIGHUP, {@code POST /admin/reload}),
 * what a reload cannot apply without a restart ({@link dev.detour.server.reload.RestartOnlyChange}), and its
 * record ({@link dev.detour.server.reload.ConfigReloads}). The swap itself is
 * {@link dev.detour.server.GatewayServer#reload(String)}.
 */
package dev.detour.server.reload;
