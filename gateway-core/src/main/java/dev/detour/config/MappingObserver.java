package dev.detour.config;

import java.util.List;

/**
 * Learns of every mapping the binder reads and of the keys it accepts there.
 *
 * <p>This is how the schema test ({@code ConfigSchemaTest}) finds out, from the binder itself, which fields
 * exist: it binds a file that reaches every section and compares what it hears with
 * {@code docs/config.schema.json}. Production loads use {@link #NONE}. Called on the loading thread, once per
 * mapping, before its entries are checked.
 */
interface MappingObserver {

    /** Ignores everything: what a normal load uses. */
    MappingObserver NONE = (path, knownKeys) -> {
    };

    /**
     * Called for each mapping read.
     *
     * @param path      the mapping's config path, e.g. {@code routes[0].targets[1]}; empty for the document
     * @param knownKeys the keys allowed there, or empty when the user names the keys ({@code providers},
     *                  {@code headers}, {@code params})
     */
    void mappingRead(String path, List<String> knownKeys);
}
