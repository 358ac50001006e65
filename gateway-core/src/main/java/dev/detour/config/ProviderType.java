package dev.detour.config;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The kind of a provider: its wire {@link Dialect}, and for well-known OpenAI-compatible hosts, a preset
 * that fills in the base URL and whether a key is needed.
 */
public enum ProviderType {
    /** OpenAI's API, or any host that speaks it: give the base URL. */
    OPENAI(Dialect.OPENAI, null, true, Map.of()),
    /** Detour's built-in deterministic provider: no network, no keys. */
    MOCK(Dialect.MOCK, "mock://local", false, Map.of()),
    /** Anthropic's Messages API; option {@code version} is the {@code anthropic-version} header. */
    ANTHROPIC(Dialect.ANTHROPIC, "https://api.anthropic.com/v1", true, Map.of("version", "2023-06-01")),
    /** Google's Gemini (Generative Language API). */
    GEMINI(Dialect.GEMINI, "https://generativelanguage.googleapis.com/v1beta", true, Map.of()),
    /**
     * Azure OpenAI: base URL {@code https://{resource}.openai.azure.com/openai}; a target's model is its
     * deployment name. Options: {@code api-version} (a date, a {@code -preview} date, or {@code v1} for Azure's
     * v1 API), and {@code auth} ({@code api-key} header or {@code bearer} for an Entra ID token).
     */
    AZURE(Dialect.AZURE, null, true, Map.of("api-version", "2024-10-21", "auth", "api-key")),
    /**
     * AWS Bedrock Converse; option {@code region} (required) sets the endpoint. Keys are
     * {@code ACCESS_KEY_ID:SECRET_ACCESS_KEY} or {@code ACCESS_KEY_ID:SECRET_ACCESS_KEY:SESSION_TOKEN}.
     */
    BEDROCK(Dialect.BEDROCK, null, true, Map.of("region", "")),
    MISTRAL(Dialect.OPENAI, "https://api.mistral.ai/v1", true, Map.of()),
    GROQ(Dialect.OPENAI, "https://api.groq.com/openai/v1", true, Map.of()),
    TOGETHER(Dialect.OPENAI, "https://api.together.xyz/v1", true, Map.of()),
    FIREWORKS(Dialect.OPENAI, "https://api.fireworks.ai/inference/v1", true, Map.of()),
    DEEPSEEK(Dialect.OPENAI, "https://api.deepseek.com/v1", true, Map.of()),
    OPENROUTER(Dialect.OPENAI, "https://openrouter.ai/api/v1", true, Map.of()),
    XAI(Dialect.OPENAI, "https://api.x.ai/v1", true, Map.of()),
    PERPLEXITY(Dialect.OPENAI, "https://api.perplexity.ai", true, Map.of()),
    CEREBRAS(Dialect.OPENAI, "https://api.cerebras.ai/v1", true, Map.of()),
    /** A local Ollama server; no key needed. */
    OLLAMA(Dialect.OPENAI, "http://127.0.0.1:11434/v1", false, Map.of()),
    /** A vLLM server; a key only when it runs with {@code --api-key}. */
    VLLM(Dialect.OPENAI, "http://127.0.0.1:8000/v1", false, Map.of()),
    /** LM Studio's local server; no key needed. */
    LMSTUDIO(Dialect.OPENAI, "http://127.0.0.1:1234/v1", false, Map.of());

    private final Dialect dialect;
    private final String defaultBaseUrl;
    private final boolean keyRequired;
    private final Map<String, String> optionDefaults;

    ProviderType(Dialect dialect, String defaultBaseUrl, boolean keyRequired, Map<String, String> optionDefaults) {
        this.dialect = dialect;
        this.defaultBaseUrl = defaultBaseUrl;
        this.keyRequired = keyRequired;
        this.optionDefaults = optionDefaults;
    }

    /** Returns the YAML spelling, e.g. {@code openai}. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Returns the wire dialect, which picks the adapter. */
    public Dialect dialect() {
        return dialect;
    }

    /** Returns the base URL used when the config gives none, or empty when {@code base-url} is required. */
    public Optional<String> defaultBaseUrl() {
        return Optional.ofNullable(defaultBaseUrl);
    }

    /** Returns whether at least one key must be configured. */
    public boolean keyRequired() {
        return keyRequired;
    }

    /** Returns the option names this type accepts. */
    public Set<String> optionNames() {
        return optionDefaults.keySet();
    }

    /** Returns the default of option {@code name}; an empty default means the option is required. */
    public String optionDefault(String name) {
        return optionDefaults.get(name);
    }

    /** The wire format a provider speaks. */
    public enum Dialect {
        OPENAI, MOCK, ANTHROPIC, GEMINI, AZURE, BEDROCK
    }
}
