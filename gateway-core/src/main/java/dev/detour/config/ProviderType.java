package dev.detour.config;

import java.util.Locale;

/** The wire dialect a provider speaks, which picks its adapter. */
public enum ProviderType {
    /** OpenAI's API, or any host that speaks it (Mistral, Groq, Together, vLLM, Ollama, ...). */
    OPENAI,
    /** Detour's built-in deterministic provider: no network, no keys. */
    MOCK;

    /** Returns the YAML spelling, e.g. {@code openai}. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
