package dev.detour.provider.mock;

import static dev.detour.provider.mock.MockFixtures.body;
import static dev.detour.provider.mock.MockFixtures.json;
import static dev.detour.provider.mock.MockFixtures.responder;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.detour.api.Endpoint;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class MockResponderEmbeddingTest {

    @Test
    void embedsEachInputAsUnitVectorOfConfiguredLength() {
        MockResponder mock = responder(Duration.ofMillis(5), 0, 24);

        MockReply reply = mock.reply(Endpoint.EMBEDDINGS, "embed-small", "k1", true,
                                     body("{\"model\":\"e\",\"input\":[\"first text\",\"second text\",\"third\"]}"));

        assertEquals(200, reply.status());
        assertFalse(reply.streamed(), "embeddings are never streamed");
        assertEquals(Duration.ofMillis(5), reply.delay());
        JsonNode root = json(reply.body());
        assertEquals("list", root.get("object").asText());
        assertEquals("embed-small", root.get("model").asText());
        assertEquals(3, root.get("data").size());
        for (int i = 0; i < 3; i++) {
            JsonNode item = root.get("data").get(i);
            assertEquals("embedding", item.get("object").asText());
            assertEquals(i, item.get("index").asInt());
            assertEquals(24, item.get("embedding").size());
            assertEquals(1.0, norm(floats(item.get("embedding"))), 1e-5);
        }
        // "first text" (10) -> 3, "second text" (11) -> 3, "third" (5) -> 2.
        assertEquals(8, root.at("/usage/prompt_tokens").asInt());
        assertEquals(8, root.at("/usage/total_tokens").asInt());
    }

    @Test
    void sameInputEmbedsEquallyAndDifferentInputDifferently() {
        MockResponder mock = responder();

        JsonNode root = json(mock.reply(Endpoint.EMBEDDINGS, "e", "k1", false,
                                        body("{\"model\":\"e\",\"input\":[\"alpha\",\"beta\",\"alpha\"]}")).body());
        JsonNode again = json(responder().reply(Endpoint.EMBEDDINGS, "e", "k1", false,
                                                body("{\"model\":\"e\",\"input\":\"alpha\"}")).body());

        JsonNode alpha = root.at("/data/0/embedding");
        assertEquals(alpha, root.at("/data/2/embedding"));
        assertEquals(alpha, again.at("/data/0/embedding"), "a new responder gives the same vector");
        assertNotEquals(alpha, root.at("/data/1/embedding"));
    }

    @Test
    void honoursRequestedDimensions() {
        JsonNode root = json(responder().reply(Endpoint.EMBEDDINGS, "e", "k1", false, body(
                "{\"model\":\"e\",\"input\":\"alpha\",\"dimensions\":512}")).body());

        assertEquals(512, root.at("/data/0/embedding").size());
        assertEquals(1.0, norm(floats(root.at("/data/0/embedding"))), 1e-5);
    }

    @Test
    void encodesBase64AsLittleEndianFloatsOfTheSameVector() {
        MockResponder mock = responder();

        JsonNode floats = json(mock.reply(Endpoint.EMBEDDINGS, "e", "k1", false, body(
                "{\"model\":\"e\",\"input\":\"alpha\",\"encoding_format\":\"float\"}")).body());
        JsonNode base64 = json(mock.reply(Endpoint.EMBEDDINGS, "e", "k1", false, body(
                "{\"model\":\"e\",\"input\":\"alpha\",\"encoding_format\":\"base64\"}")).body());

        float[] expected = floats(floats.at("/data/0/embedding"));
        ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(base64.at("/data/0/embedding").asText()))
                .order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(expected.length * Float.BYTES, bytes.remaining());
        for (float v : expected) {
            assertEquals(v, bytes.getFloat(), "float written as text and as bytes agree");
        }
    }

    @Test
    void embedsTokenArrays() {
        JsonNode single = json(responder().reply(Endpoint.EMBEDDINGS, "e", "k1", false, body(
                "{\"model\":\"e\",\"input\":[1,2,3]}")).body());
        JsonNode several = json(responder().reply(Endpoint.EMBEDDINGS, "e", "k1", false, body(
                "{\"model\":\"e\",\"input\":[[1,2,3],[4]]}")).body());

        assertEquals(1, single.get("data").size());
        assertEquals(3, single.at("/usage/prompt_tokens").asInt());
        assertEquals(2, several.get("data").size());
        assertEquals(4, several.at("/usage/prompt_tokens").asInt());
        assertEquals(single.at("/data/0/embedding"), several.at("/data/0/embedding"));
        assertNotEquals(several.at("/data/0/embedding"), several.at("/data/1/embedding"));
    }

    @Test
    void answersBadRequestForInvalidInputOrOptions() {
        MockResponder mock = responder();

        assertBadParam(mock, "{\"model\":\"e\"}", "input");
        assertBadParam(mock, "{\"model\":\"e\",\"input\":[]}", "input");
        assertBadParam(mock, "{\"model\":\"e\",\"input\":[\"a\",1]}", "input");
        assertBadParam(mock, "{\"model\":\"e\",\"input\":[1,\"a\"]}", "input");
        assertBadParam(mock, "{\"model\":\"e\",\"input\":\"a\",\"dimensions\":0}", "dimensions");
        assertBadParam(mock, "{\"model\":\"e\",\"input\":\"a\",\"encoding_format\":\"int8\"}", "encoding_format");
    }

    private static void assertBadParam(MockResponder mock, String request, String param) {
        MockReply reply = mock.reply(Endpoint.EMBEDDINGS, "e", "k1", false, body(request));
        assertEquals(400, reply.status(), request);
        assertEquals(param, json(reply.body()).at("/error/param").asText(), request);
    }

    private static float[] floats(JsonNode array) {
        float[] values = new float[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i).floatValue();
        }
        return values;
    }

    private static double norm(float[] vector) {
        double sum = 0;
        for (float v : vector) {
            sum += (double) v * v;
        }
        return Math.sqrt(sum);
    }
}
