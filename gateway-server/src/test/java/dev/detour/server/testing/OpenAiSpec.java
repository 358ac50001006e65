package dev.detour.server.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.Dialect;
import com.networknt.schema.dialect.Dialects;
import com.networknt.schema.keyword.AnnotationKeyword;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * OpenAI's OpenAPI description ({@code src/test/resources/openapi/openai-openapi.yaml}, see the README there) as
 * JSON Schema (draft 2020-12) validators of its {@code #/components/schemas/...}: the contract an OpenAI client
 * expects from Detour, and an OpenAI-compatible upstream from Detour's requests.
 *
 * <p>The 3 MB document is read and compiled once per JVM, on first use (about six seconds), and each schema
 * once; validation itself takes milliseconds. Thread-safe.
 *
 * <h2>How the spec is read</h2>
 * Two of the spec's constructs do not mean in a 2020-12 validator what the spec's authors (and OpenAI's generated
 * SDKs) mean by them, so they are read as intended rather than literally; nothing else is relaxed:
 * <ul>
 *   <li>{@code nullable: true}, an OpenAPI 3.0 keyword that 3.1 dropped, still marks 111 schemas, among them
 *       {@code finish_reason}, {@code logprobs} and {@code usage} of a stream chunk. Read literally (an unknown
 *       keyword), {@code "finish_reason": null}, which OpenAI sends on every chunk but the last, would be invalid.
 *       A schema with {@code nullable: true} is read as OpenAPI 3.0 defined it: that schema, or {@code null}.</li>
 *   <li>{@code discriminator} (an OpenAPI annotation) names a property but gives no mapping, so OpenAPI's implicit
 *       mapping by schema name would expect {@code "role": "ChatCompletionRequestUserMessage"} rather than
 *       {@code "user"}. It is left as an annotation: the {@code oneOf} it sits on decides alone, and it decides
 *       the same thing, since each alternative fixes its own {@code role} or {@code type}.</li>
 * </ul>
 * Other OpenAPI and {@code x-*} keywords are annotations without effect on validation, as in any 2020-12 validator.
 */
public final class OpenAiSpec {

    private static final String RESOURCE = "/openapi/openai-openapi.yaml";
    private static final String IRI = "https://spec.detour.test/openai-openapi.json";
    private static final Map<String, Schema> SCHEMAS = new ConcurrentHashMap<>();

    private OpenAiSpec() {
    }

    /**
     * Returns what is wrong with {@code json} as an instance of {@code #/components/schemas/{schema}}, one line
     * per violation (instance location, keyword, message, arguments); empty when it is valid.
     */
    public static List<String> violations(String schema, JsonNode json) {
        Schema compiled = SCHEMAS.computeIfAbsent(schema, name -> {
            Schema s = Document.SPEC.getRefSchema(SchemaLocation.Fragment.of("#/components/schemas/" + name));
            s.initializeValidators();
            return s;
        });
        List<String> lines = new ArrayList<>();
        for (Error e : compiled.validate(json)) {
            lines.add(e.getInstanceLocation() + " " + e.getKeyword() + ": " + e.getMessage() + " "
                      + Arrays.toString(e.getArguments()));
        }
        return lines;
    }

    /** Reads the spec, resolving OpenAPI 3.0's {@code nullable} as described in the class comment. */
    static JsonNode read() {
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(32 * 1024 * 1024); // the spec is 3 MB; SnakeYAML stops at 3 MiB by default
        ObjectMapper yaml = new ObjectMapper(YAMLFactory.builder().loaderOptions(options).build());
        try (InputStream in = OpenAiSpec.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the test class path");
            }
            return orNull(yaml.readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Returns {@code node} with every schema marked {@code nullable: true} replaced by {@code anyOf: [it, null]}. */
    private static JsonNode orNull(JsonNode node) {
        if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                array.set(i, orNull(array.get(i)));
            }
            return array;
        }
        if (!(node instanceof ObjectNode object)) {
            return node;
        }
        List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        for (String name : names) {
            object.set(name, orNull(object.get(name)));
        }
        if (!object.path("nullable").isBoolean() || !object.get("nullable").booleanValue()) {
            return object;
        }
        object.remove("nullable");
        ObjectNode either = object.objectNode();
        ArrayNode anyOf = either.putArray("anyOf");
        anyOf.add(object);
        anyOf.addObject().put("type", "null");
        return either;
    }

    /** Holds the compiled document; the JVM's lazy class initialisation loads it once, on first use. */
    private static final class Document {
        static final Schema SPEC = load();

        private static Schema load() {
            // Unknown keywords (OpenAPI's own, x-*) are annotations, as by default, without a warning for each.
            Dialect dialect = Dialect.builder(Dialects.getDraft202012())
                    .unknownKeywordFactory((keyword, context) -> new AnnotationKeyword(keyword))
                    .build();
            String json = read().toString();
            SchemaRegistry registry = SchemaRegistry.withDefaultDialect(dialect,
                    builder -> builder.schemas(Map.of(IRI, json)));
            return registry.getSchema(SchemaLocation.of(IRI));
        }
    }
}
