/**
 * The built-in {@code mock} provider: answers chat, completion and embedding requests in OpenAI's
 * dialect without any network, deterministically, and plays scripted failures (429, 401, 5xx, hangs)
 * per key. Start at {@link dev.detour.provider.mock.MockResponder}, which turns a request into a
 * {@link dev.detour.provider.mock.MockReply} that the server plays out with the configured pacing.
 */
package dev.detour.provider.mock;
