/**
 * Provider translation: a {@link dev.detour.provider.ProviderAdapter} turns a request into one
 * provider's dialect as an {@link dev.detour.provider.UpstreamRequest}, which the server's
 * {@link dev.detour.provider.UpstreamTransport} sends. Pure code, no I/O.
 */
package dev.detour.provider;
