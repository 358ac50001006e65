package dev.detour.provider;

import dev.detour.config.ProviderType;
import dev.detour.provider.anthropic.AnthropicAdapter;
import dev.detour.provider.azure.AzureAdapter;
import dev.detour.provider.bedrock.BedrockAdapter;
import dev.detour.provider.compat.OpenAiCompatibleAdapter;
import dev.detour.provider.gemini.GeminiAdapter;

/**
 * Finds the adapter of a provider type: the one place a new dialect is registered.
 */
public final class ProviderAdapters {

    private ProviderAdapters() {
    }

    /** Returns the adapter for {@code type}'s dialect (and, for OpenAI-compatible presets, its quirks). */
    public static ProviderAdapter forType(ProviderType type) {
        switch (type.dialect()) {
            case ANTHROPIC:
                return AnthropicAdapter.INSTANCE;
            case GEMINI:
                return GeminiAdapter.INSTANCE;
            case AZURE:
                return AzureAdapter.INSTANCE;
            case BEDROCK:
                return BedrockAdapter.INSTANCE;
            case OPENAI:
                return OpenAiCompatibleAdapter.of(type); // plain openai gets OpenAiAdapter itself
            case MOCK: // the mock speaks OpenAI's dialect; its transport answers in-process
            default:
                return OpenAiAdapter.INSTANCE;
        }
    }
}
