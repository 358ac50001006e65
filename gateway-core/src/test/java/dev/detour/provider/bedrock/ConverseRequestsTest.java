package dev.detour.provider.bedrock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.detour.api.InvalidRequestException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConverseRequestsTest {

    @ParameterizedTest
    @ValueSource(strings = {"text-system", "multi-turn", "image", "tools", "tool-choice-named",
                            "tool-history-without-tools", "dropped-fields", "tool-choice-none"})
    void translatesGoldenRequest(String name) throws Exception {
        JsonNode request = BedrockFixtures.json("requests/" + name + ".openai.json");

        JsonNode converse = BedrockFixtures.tree(ConverseRequests.translate(request));

        assertEquals(BedrockFixtures.json("requests/" + name + ".converse.json"), converse, converse.toString());
    }

    @Test
    void refusesImageUrlsBecauseConverseTakesBytesOnly() {
        JsonNode request = tree("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
                                + "\"image_url\":{\"url\":\"https://example.com/cat.png\"}}]}]}");

        InvalidRequestException e = refusal(request);

        assertEquals("messages[0].content[0].image_url.url", e.param());
        assertTrue(e.getMessage().contains("cannot fetch URLs"), e.getMessage());
    }

    @Test
    void refusesImageTypesConverseDoesNotTake() {
        JsonNode request = tree("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
                                + "\"image_url\":{\"url\":\"data:image/bmp;base64,Qk0=\"}}]}]}");

        InvalidRequestException e = refusal(request);

        assertTrue(e.getMessage().contains("png, jpeg, gif or webp"), e.getMessage());
    }

    @Test
    void refusesMoreThanOneChoice() {
        JsonNode request = tree("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"n\":2}");

        InvalidRequestException e = refusal(request);

        assertEquals("n", e.param());
    }

    @Test
    void refusesJsonResponseFormats() {
        JsonNode request = tree("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
                                + "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a\"}}}");

        InvalidRequestException e = refusal(request);

        assertEquals("response_format", e.param());
    }

    @Test
    void refusesToolArgumentsThatAreNotJson() {
        JsonNode request = tree("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\","
                                + "\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"f\","
                                + "\"arguments\":\"{not json\"}}]}]}");

        InvalidRequestException e = refusal(request);

        assertEquals("messages[1].tool_calls[0].function.arguments", e.param());
    }

    @Test
    void refusesAudioParts() {
        JsonNode request = tree("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\","
                                + "\"input_audio\":{\"data\":\"AAAA\",\"format\":\"wav\"}}]}]}");

        InvalidRequestException e = refusal(request);

        assertTrue(e.getMessage().contains("'input_audio' is not supported"), e.getMessage());
    }

    @Test
    void refusesToolMessageWithoutCallId() {
        JsonNode request = tree("{\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}");

        InvalidRequestException e = refusal(request);

        assertEquals("messages[0].tool_call_id", e.param());
    }

    @Test
    void refusesNonFunctionTools() {
        JsonNode request = tree("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
                                + "\"tools\":[{\"type\":\"web_search\"}]}");

        InvalidRequestException e = refusal(request);

        assertEquals("tools[0].type", e.param());
    }

    @Test
    void readsIncludeUsageOnlyWhenAsked() {
        assertTrue(ConverseRequests.includeUsage(tree("{\"stream_options\":{\"include_usage\":true}}")));
        assertFalse(ConverseRequests.includeUsage(tree("{\"stream\":true}")));
    }

    private static InvalidRequestException refusal(JsonNode request) {
        return assertThrows(InvalidRequestException.class, () -> ConverseRequests.translate(request));
    }

    private static JsonNode tree(String json) {
        return BedrockFixtures.tree(json.getBytes(StandardCharsets.UTF_8));
    }
}
