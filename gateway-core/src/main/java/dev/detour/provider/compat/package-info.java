/**
 * OpenAI-compatible presets (Mistral, Groq, OpenRouter, DeepSeek, ...): the OpenAI pass-through with each
 * host's documented quirks. Start at {@link dev.detour.provider.compat.OpenAiCompatibleAdapter}; bodies are
 * rewritten only when a field the host refuses is present, and errors in any of the hosts' shapes are read by
 * {@link dev.detour.provider.compat.ProviderError}. {@link dev.detour.provider.compat.SseEventFilter} is the
 * light stream filter shared with the Azure adapter.
 */
package dev.detour.provider.compat;
