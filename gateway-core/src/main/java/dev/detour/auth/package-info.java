/**
 * Client-key authentication: the {@link dev.detour.auth.KeyAuthFilter} checks the Detour key a client
 * sends ({@code Authorization: Bearer} or {@code x-api-key}) against the SHA-256 hashes in
 * {@code clients:}, refuses missing, unknown and expired keys (401) and models the client may not call
 * (403), and records the {@link dev.detour.filter.Caller} that later filters match on.
 *
 * <p>{@link dev.detour.auth.AdminAuth} guards {@code /admin/*} with the keys of {@code auth.admin-keys};
 * {@link dev.detour.auth.ClientKeys} makes new keys. Detour stores only hashes, and never logs a key or
 * puts one in an error message.
 */
package dev.detour.auth;
