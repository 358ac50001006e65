package dev.detour.config;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * The entries of a YAML mapping by key, checked once for unknown, duplicate and non-scalar keys.
 *
 * <p>Merge keys ({@code <<: *anchor}) are already expanded by SnakeYAML when it composes the tree, so
 * a merged entry appears here like any other, with the position where its value is written.
 */
final class YamlMapping {

    /**
     * Returns the entries of {@code self}.
     *
     * @param self      the node, for positions, paths and reporting
     * @param mapping   the same node as a mapping, or {@code null} when it is not one
     * @param knownKeys the allowed keys, or empty when the user names the keys (providers, headers)
     */
    static YamlMapping of(YamlNode self, MappingNode mapping, List<String> knownKeys) {
        self.context().observer().mappingRead(self.path(), knownKeys);
        if (mapping == null) {
            if (self.isNull()) {
                return new YamlMapping(self, true, Map.of());
            }
            self.report("expected a mapping, got " + self.describe());
            return new YamlMapping(self, false, Map.of());
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (NodeTuple tuple : mapping.getValue()) {
            if (!(tuple.getKeyNode() instanceof ScalarNode keyScalar)) {
                new YamlNode(tuple.getKeyNode(), self.path(), self.context())
                        .report("expected a plain key, got " + (tuple.getKeyNode() instanceof MappingNode
                                                                 ? "a mapping" : "a list"));
                continue;
            }
            String key = keyScalar.getValue();
            YamlNode keyNode = self.child(keyScalar, key);
            if (!knownKeys.isEmpty() && !knownKeys.contains(key)) {
                keyNode.report("unknown field (known: " + String.join(", ", knownKeys) + ")");
                continue;
            }
            Entry first = entries.get(key);
            if (first != null) {
                keyNode.report("duplicate key (first defined at line " + first.key().line() + ")");
                continue;
            }
            entries.put(key, new Entry(key, keyNode, self.child(tuple.getValueNode(), key)));
        }
        return new YamlMapping(self, true, entries);
    }

    private final YamlNode self;
    private final boolean wellFormed;
    private final Map<String, Entry> entries;

    private YamlMapping(YamlNode self, boolean wellFormed, Map<String, Entry> entries) {
        this.self = self;
        this.wellFormed = wellFormed;
        this.entries = entries;
    }

    /** Returns the mapping node itself, for problems about the whole mapping. */
    YamlNode node() {
        return self;
    }

    /** Returns whether the node really was a mapping (or null); {@code false} after a reported type error. */
    boolean wellFormed() {
        return wellFormed;
    }

    /** Returns the value of {@code key}, or empty when the key is absent. */
    Optional<YamlNode> get(String key) {
        return entry(key).map(Entry::value);
    }

    /** Returns the entry of {@code key}, or empty when the key is absent. */
    Optional<Entry> entry(String key) {
        return Optional.ofNullable(entries.get(key));
    }

    /** Returns the value of {@code key}, reporting it as missing at this mapping's position when absent. */
    Optional<YamlNode> require(String key) {
        return require(key, "required field is missing");
    }

    /** Returns the value of {@code key}, reporting {@code message} at this mapping's position when absent. */
    Optional<YamlNode> require(String key, String message) {
        Entry entry = entries.get(key);
        if (entry == null) {
            // After "expected a mapping, got ..." every field would also be missing; one problem is enough.
            if (wellFormed) {
                self.reportChild(key, message);
            }
            return Optional.empty();
        }
        return Optional.of(entry.value());
    }

    /** Returns every entry in file order. */
    Collection<Entry> entries() {
        return entries.values();
    }

    /**
     * One key and its value.
     *
     * @param name  the key's text
     * @param key   the key node, for problems about the key itself
     * @param value the value node; both nodes carry the entry's path
     */
    record Entry(String name, YamlNode key, YamlNode value) {
    }
}
