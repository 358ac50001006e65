package dev.detour.provider.bedrock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.detour.api.InvalidRequestException;
import dev.detour.api.UsageScanner;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class TitanEmbeddingsTest {

    @Test
    void translatesGoldenRequest() throws Exception {
        JsonNode request = BedrockFixtures.json("embeddings/titan.request.openai.json");

        JsonNode titan = BedrockFixtures.tree(TitanEmbeddings.request(request));

        assertEquals(BedrockFixtures.json("embeddings/titan.request.titan.json"), titan);
    }

    @Test
    void translatesGoldenResponse() throws Exception {
        TitanEmbeddings translator = new TitanEmbeddings("titan", false);

        byte[] out = translator.translateBody(BedrockFixtures.bytes("embeddings/titan.response.titan.json"));

        assertEquals(BedrockFixtures.json("embeddings/titan.response.openai.json"), BedrockFixtures.tree(out));
    }

    @Test
    void reportsTitansTokenCount() throws Exception {
        UsageScanner usage = new UsageScanner();
        TitanEmbeddings translator = new TitanEmbeddings("titan", false, usage);

        translator.translateBody(BedrockFixtures.bytes("embeddings/titan.response.titan.json"));

        assertEquals(6, usage.promptTokens());
        assertEquals(6, usage.totalTokens());
    }

    @Test
    void encodesLittleEndianFloat32WhenBase64IsAsked() throws Exception {
        TitanEmbeddings translator = new TitanEmbeddings("titan", true);

        byte[] out = translator.translateBody(BedrockFixtures.bytes("embeddings/titan.response.titan.json"));

        String encoded = BedrockFixtures.tree(out).get("data").get(0).get("embedding").asText();
        ByteBuffer floats = ByteBuffer.wrap(Base64.getDecoder().decode(encoded)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(16, floats.remaining());
        assertEquals(0.0123f, floats.getFloat());
        assertEquals(-0.0456f, floats.getFloat());
        assertEquals(0.5f, floats.getFloat());
        assertEquals(1.0f, floats.getFloat());
    }

    @Test
    void acceptsAPlainString() throws Exception {
        JsonNode titan = BedrockFixtures.tree(TitanEmbeddings.request(tree("{\"input\":\"hello\"}")));

        assertEquals(tree("{\"inputText\":\"hello\",\"normalize\":true}"), titan);
    }

    @Test
    void refusesSeveralInputsBecauseTitanTakesOneTextPerCall() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> TitanEmbeddings.request(tree("{\"input\":[\"a\",\"b\"]}")));

        assertEquals("input", e.param());
        assertTrue(e.getMessage().contains("one text per request"), e.getMessage());
    }

    @Test
    void refusesTokenArrays() {
        assertThrows(InvalidRequestException.class, () -> TitanEmbeddings.request(tree("{\"input\":[1,2,3]}")));
        assertThrows(InvalidRequestException.class, () -> TitanEmbeddings.request(tree("{\"input\":[[1,2]]}")));
    }

    private static JsonNode tree(String json) {
        return BedrockFixtures.tree(json.getBytes(StandardCharsets.UTF_8));
    }
}
