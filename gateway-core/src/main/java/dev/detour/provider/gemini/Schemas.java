package dev.detour.provider.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.detour.api.InvalidRequestException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Converts the JSON Schema of OpenAI tools and {@code response_format} into Gemini's {@code Schema}, an OpenAPI
 * subset ({@code providers.md} §5.1).
 *
 * <p>Gemini rejects fields it does not know ({@code additionalProperties}, {@code $schema}, {@code strict}, ...),
 * so only its own fields are kept: local {@code $ref}s are inlined, {@code allOf} is merged, {@code oneOf} becomes
 * {@code anyOf}, a {@code null} member of a type list or {@code anyOf} becomes {@code nullable}, {@code const}
 * becomes a one-value {@code enum}, and {@code format}s Gemini does not accept for the type are dropped. A recursive
 * or remote {@code $ref} cannot be inlined and is refused. Thread-safe, stateless.
 */
final class Schemas {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final int MAX_DEPTH = 64;
    /** Copied as they are: Gemini's scalar Schema fields. */
    private static final List<String> PLAIN = List.of("title", "description", "nullable", "minItems", "maxItems",
                                                      "minLength", "maxLength", "pattern", "minProperties",
                                                      "maxProperties", "minimum", "maximum", "propertyOrdering",
                                                      "default", "example");
    private static final Map<String, Set<String>> FORMATS = Map.of(
            "string", Set.of("enum", "date-time"),
            "number", Set.of("float", "double"),
            "integer", Set.of("int32", "int64"));

    private Schemas() {
    }

    /**
     * Returns Gemini's form of {@code schema}.
     *
     * @param param the request field holding the schema, for error messages
     * @throws InvalidRequestException for a {@code $ref} that is remote, dangling or recursive
     */
    static ObjectNode toGemini(JsonNode schema, String param) throws InvalidRequestException {
        return convert(schema, schema, param, new ArrayDeque<>(), 0);
    }

    private static ObjectNode convert(JsonNode node, JsonNode root, String param, Deque<String> refs, int depth)
            throws InvalidRequestException {
        if (depth > MAX_DEPTH) {
            throw new InvalidRequestException(param + " nests deeper than " + MAX_DEPTH + " levels.", param,
                                              "invalid_value");
        }
        int inlinedAbove = refs.size();
        try {
            // The refs this node inlines stay on the stack while its children convert: a child referring to one
            // of them again is a recursive schema.
            ObjectNode schema = flatten(node, root, param, refs);
            return convertFlat(schema, root, param, refs, depth);
        } finally {
            while (refs.size() > inlinedAbove) {
                refs.pop();
            }
        }
    }

    private static ObjectNode convertFlat(ObjectNode schema, JsonNode root, String param, Deque<String> refs,
                                          int depth) throws InvalidRequestException {
        ObjectNode out = NODES.objectNode();
        String type = type(schema, out);
        for (String field : PLAIN) {
            JsonNode v = schema.get(field);
            if (v != null && !v.isNull() && !out.has(field)) {
                out.set(field, v);
            }
        }
        JsonNode format = schema.get("format");
        if (format != null && format.isTextual() && type != null
            && FORMATS.getOrDefault(type.toLowerCase(Locale.ROOT), Set.of()).contains(format.asText())) {
            out.set("format", format);
        }
        JsonNode values = schema.get("enum");
        if (values != null && values.isArray() && allText(values)) {
            out.set("enum", values);
        } else if (schema.path("const").isTextual()) {
            out.putArray("enum").add(schema.get("const"));
        }
        JsonNode properties = schema.get("properties");
        if (properties != null && properties.isObject()) {
            ObjectNode converted = out.putObject("properties");
            Iterator<Map.Entry<String, JsonNode>> it = properties.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getValue().isObject()) {
                    converted.set(e.getKey(), convert(e.getValue(), root, param, refs, depth + 1));
                }
            }
        }
        JsonNode required = schema.get("required");
        if (required != null && required.isArray() && !required.isEmpty()) {
            out.set("required", required);
        }
        JsonNode items = schema.get("items");
        if (items != null && items.isObject()) {
            out.set("items", convert(items, root, param, refs, depth + 1));
        }
        anyOf(schema, root, param, refs, depth, out);
        return out;
    }

    /** Writes {@code type} (and {@code nullable} for a {@code null} member of a type list); returns the type. */
    private static String type(JsonNode schema, ObjectNode out) {
        JsonNode type = schema.get("type");
        if (type == null) {
            return null;
        }
        if (type.isTextual()) {
            out.set("type", type);
            return type.asText();
        }
        if (!type.isArray()) {
            return null;
        }
        List<String> types = new ArrayList<>();
        for (JsonNode t : type) {
            if ("null".equals(t.asText())) {
                out.put("nullable", true);
            } else {
                types.add(t.asText());
            }
        }
        if (types.size() == 1) {
            out.put("type", types.get(0));
            return types.get(0);
        }
        if (types.isEmpty()) {
            out.put("type", "null");
            return "null";
        }
        ArrayNode anyOf = out.putArray("anyOf");
        for (String t : types) {
            anyOf.addObject().put("type", t);
        }
        return null;
    }

    /** Writes {@code anyOf} from {@code anyOf} or {@code oneOf}; a single non-null member is merged instead. */
    private static void anyOf(JsonNode schema, JsonNode root, String param, Deque<String> refs, int depth,
                              ObjectNode out) throws InvalidRequestException {
        JsonNode members = schema.get("anyOf");
        if (members == null || !members.isArray()) {
            members = schema.get("oneOf");
        }
        if (members == null || !members.isArray()) {
            return;
        }
        List<ObjectNode> converted = new ArrayList<>();
        for (JsonNode member : members) {
            if (!member.isObject()) {
                continue;
            }
            ObjectNode c = convert(member, root, param, refs, depth + 1);
            if (c.size() == 1 && "null".equals(c.path("type").asText())) {
                out.put("nullable", true); // Optional[X] as JSON Schema spells it: anyOf [X, {type: null}]
            } else {
                converted.add(c);
            }
        }
        if (converted.size() == 1) {
            ObjectNode only = converted.get(0);
            Iterator<Map.Entry<String, JsonNode>> it = only.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!out.has(e.getKey())) {
                    out.set(e.getKey(), e.getValue());
                }
            }
        } else if (!converted.isEmpty()) {
            out.putArray("anyOf").addAll(converted);
        }
    }

    /**
     * Returns a copy of {@code node} with its {@code $ref} inlined and its {@code allOf} merged (the node's own
     * fields win); pushes every ref it inlines onto {@code refs}.
     */
    private static ObjectNode flatten(JsonNode node, JsonNode root, String param, Deque<String> refs)
            throws InvalidRequestException {
        ObjectNode schema = ((ObjectNode) node).deepCopy();
        JsonNode ref = schema.remove("$ref");
        if (ref != null) {
            String name = ref.asText();
            if (refs.contains(name)) {
                throw new InvalidRequestException(param + ": the schema refers to itself (" + name + "); Gemini "
                                                  + "schemas cannot be recursive.", param, "unsupported_value");
            }
            JsonNode target = resolve(root, name);
            if (target == null || !target.isObject()) {
                throw new InvalidRequestException(param + ": $ref '" + name + "' does not point into the schema's "
                                                  + "own $defs or definitions.", param, "unsupported_value");
            }
            refs.push(name);
            merge(schema, flatten(target, root, param, refs));
        }
        JsonNode allOf = schema.remove("allOf");
        if (allOf != null && allOf.isArray()) {
            for (JsonNode member : allOf) {
                if (member.isObject()) {
                    merge(schema, flatten(member, root, param, refs));
                }
            }
        }
        return schema;
    }

    /** Copies into {@code into} what it lacks from {@code from}; properties and required are unions. */
    private static void merge(ObjectNode into, ObjectNode from) {
        Iterator<Map.Entry<String, JsonNode>> it = from.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode mine = into.get(e.getKey());
            if (mine == null) {
                into.set(e.getKey(), e.getValue());
            } else if ("properties".equals(e.getKey()) && mine.isObject() && e.getValue().isObject()) {
                Iterator<Map.Entry<String, JsonNode>> props = e.getValue().fields();
                while (props.hasNext()) {
                    Map.Entry<String, JsonNode> p = props.next();
                    if (!mine.has(p.getKey())) {
                        ((ObjectNode) mine).set(p.getKey(), p.getValue());
                    }
                }
            } else if ("required".equals(e.getKey()) && mine.isArray() && e.getValue().isArray()) {
                for (JsonNode r : e.getValue()) {
                    if (!contains(mine, r.asText())) {
                        ((ArrayNode) mine).add(r);
                    }
                }
            }
        }
    }

    private static JsonNode resolve(JsonNode root, String ref) {
        if (ref.startsWith("#/$defs/") || ref.startsWith("#/definitions/")) {
            return root.at(ref.substring(1));
        }
        return null;
    }

    private static boolean allText(JsonNode values) {
        for (JsonNode v : values) {
            if (!v.isTextual()) {
                return false;
            }
        }
        return true;
    }

    private static boolean contains(JsonNode array, String value) {
        for (JsonNode v : array) {
            if (value.equals(v.asText())) {
                return true;
            }
        }
        return false;
    }
}
