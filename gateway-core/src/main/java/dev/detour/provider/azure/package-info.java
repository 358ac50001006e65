/**
 * Azure OpenAI: OpenAI's wire format behind deployment paths, {@code api-version} query and Azure's own auth
 * header. Start at {@link dev.detour.provider.azure.AzureAdapter}; bodies pass through, streams go through the
 * light {@link dev.detour.provider.compat.SseEventFilter} that skips Azure's prompt-filter chunks.
 */
package dev.detour.provider.azure;
