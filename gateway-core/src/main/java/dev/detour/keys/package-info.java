/**
 * Upstream API key pools: which key of a provider the next request uses.
 * Start with {@link dev.detour.keys.KeyPool}.
 */
package dev.detour.keys;
