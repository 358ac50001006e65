package dev.detour.catalog;

import java.util.Locale;
import java.util.Optional;

/** What a model can do beyond plain text in, text out. */
public enum Capability {
    /** Function / tool calling. */
    TOOLS,
    /** Image input. */
    VISION,
    /** An embedding model (served at {@code /v1/embeddings}), not a chat model. */
    EMBEDDINGS,
    /** Streamed answers. */
    STREAMING,
    /** Spends hidden reasoning tokens, billed as output. */
    REASONING;

    /** Returns the lower-case spelling used in the catalog file and in config, e.g. {@code tools}. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Returns the capability spelled {@code name} (case-insensitive), or empty. */
    public static Optional<Capability> of(String name) {
        for (Capability c : values()) {
            if (c.name().equalsIgnoreCase(name)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }
}
