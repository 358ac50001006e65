package dev.detour.provider.gemini;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import dev.detour.api.InvalidRequestException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SchemasTest {

    @Test
    void inlinesTheSameDefinitionTwice() throws Exception {
        JsonNode out = convert("{\"$defs\":{\"P\":{\"type\":\"string\"}},\"type\":\"object\",\"properties\":"
                               + "{\"a\":{\"$ref\":\"#/$defs/P\"},\"b\":{\"$ref\":\"#/definitions/Q\"}},"
                               + "\"definitions\":{\"Q\":{\"$ref\":\"#/$defs/P\",\"description\":\"q\"}}}");

        assertEquals(tree("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"},"
                          + "\"b\":{\"type\":\"string\",\"description\":\"q\"}}}"), out);
    }

    @Test
    void keepsSiblingFieldsOverReferencedOnes() throws Exception {
        JsonNode out = convert("{\"$defs\":{\"P\":{\"type\":\"string\",\"description\":\"inner\"}},"
                               + "\"$ref\":\"#/$defs/P\",\"description\":\"outer\"}");

        assertEquals(tree("{\"type\":\"string\",\"description\":\"outer\"}"), out);
    }

    @Test
    void turnsSeveralTypesIntoAnyOf() throws Exception {
        JsonNode out = convert("{\"type\":[\"string\",\"integer\",\"null\"]}");

        assertEquals(tree("{\"nullable\":true,\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}"), out);
    }

    @Test
    void dropsNonStringEnumsAndUnknownFormats() throws Exception {
        JsonNode out = convert("{\"type\":\"integer\",\"enum\":[1,2],\"format\":\"uint8\",\"exclusiveMinimum\":0}");

        assertEquals(tree("{\"type\":\"integer\"}"), out);
    }

    @Test
    void refusesRemoteReferences() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> convert("{\"$ref\":\"https://example.com/schema.json\"}"));

        assertEquals("p", e.param());
    }

    @Test
    void refusesIndirectRecursion() {
        assertThrows(InvalidRequestException.class,
                     () -> convert("{\"$defs\":{\"A\":{\"type\":\"object\",\"properties\":{\"b\":{\"$ref\":\"#/$defs/B\"}}},"
                                   + "\"B\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/A\"}}},"
                                   + "\"$ref\":\"#/$defs/A\"}"));
    }

    private static JsonNode convert(String schema) throws InvalidRequestException {
        return Schemas.toGemini(tree(schema), "p");
    }

    private static JsonNode tree(String json) {
        return GeminiFixtures.tree(json.getBytes(StandardCharsets.UTF_8));
    }
}
