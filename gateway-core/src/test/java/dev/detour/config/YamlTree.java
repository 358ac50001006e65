package dev.detour.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.StringReader;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads a YAML document into a Jackson tree as an editor's schema validator sees it: scalars typed by YAML 1.2's
 * core schema (the default of the YAML language server behind VS Code's YAML extension), merge keys expanded, and
 * {@code ${VAR}} left as written, since substitution happens only when Detour loads the file.
 *
 * <p>Under YAML 1.2, {@code 2027-01-01T00:00:00Z} and {@code yes} are strings, where SnakeYAML's YAML 1.1 resolver
 * would make them a date and a boolean.
 */
final class YamlTree {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private static final Pattern NULL = Pattern.compile("|~|null|Null|NULL");
    private static final Pattern TRUE = Pattern.compile("true|True|TRUE");
    private static final Pattern FALSE = Pattern.compile("false|False|FALSE");
    private static final Pattern INTEGER = Pattern.compile("[-+]?[0-9]+");
    private static final Pattern FLOAT = Pattern.compile("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");

    private YamlTree() {
    }

    /** Returns the document in {@code yaml}; an empty document is JSON {@code null}. */
    static JsonNode read(String yaml) {
        LoaderOptions options = new LoaderOptions();
        options.setMergeOnCompose(true);
        Node root = new Yaml(new SafeConstructor(options)).compose(new StringReader(yaml));
        return root == null ? JSON.nullNode() : toJson(root);
    }

    private static JsonNode toJson(Node node) {
        if (node instanceof MappingNode mapping) {
            ObjectNode object = JSON.objectNode();
            for (NodeTuple tuple : mapping.getValue()) {
                // Keys of a Detour config are plain scalars; a later entry wins, as an explicit key wins over a merge.
                object.set(((ScalarNode) tuple.getKeyNode()).getValue(), toJson(tuple.getValueNode()));
            }
            return object;
        }
        if (node instanceof SequenceNode sequence) {
            ArrayNode array = JSON.arrayNode();
            sequence.getValue().forEach(element -> array.add(toJson(element)));
            return array;
        }
        ScalarNode scalar = (ScalarNode) node;
        String text = scalar.getValue();
        if (!scalar.isPlain()) {
            return JSON.textNode(text);
        }
        if (NULL.matcher(text).matches()) {
            return JSON.nullNode();
        }
        if (TRUE.matcher(text).matches() || FALSE.matcher(text).matches()) {
            return JSON.booleanNode(TRUE.matcher(text).matches());
        }
        if (INTEGER.matcher(text).matches()) {
            return JSON.numberNode(new BigInteger(text));
        }
        if (FLOAT.matcher(text).matches()) {
            return JSON.numberNode(new BigDecimal(text));
        }
        return JSON.textNode(text);
    }
}
