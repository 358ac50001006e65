/**
 * The OpenAI-compatible API surface: the {@link dev.detour.api.Endpoint}s Detour serves, and the
 * {@link dev.detour.api.RequestSniffer} that reads the few body fields routing needs without
 * re-serialising the body.
 */
package dev.detour.api;
