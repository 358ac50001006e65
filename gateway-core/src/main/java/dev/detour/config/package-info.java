/**
 * The gateway's configuration: immutable records, and the loader that reads them from YAML.
 *
 * <p>Start at {@link dev.detour.config.ConfigLoader}, which turns a file into a
 * {@link dev.detour.config.GatewayConfig} or throws a {@link dev.detour.config.ConfigException} listing
 * every {@link dev.detour.config.ConfigProblem} with its line and column. The YAML format is described in
 * {@code docs/configuration.md}.
 */
package dev.detour.config;
