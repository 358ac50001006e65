package dev.detour.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.IntNode;
import dev.detour.api.Endpoint;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RequestCanonicalizerTest {

    @Test
    void sortsKeysAndDropsWhitespace() throws IOException {
        String canonical = canonical("{ \"messages\" : [ {\"role\":\"user\", \"content\":\"hi\"} ],\n\"a\": true }");

        assertEquals("{\"a\":true,\"messages\":[{\"content\":\"hi\",\"role\":\"user\"}]}", canonical);
    }

    @Test
    void writesEqualNumbersAlike() throws IOException {
        String one = canonical("{\"t\":1}");

        assertEquals(one, canonical("{\"t\":1.0}"));
        assertEquals(one, canonical("{\"t\":1e0}"));
        assertEquals(one, canonical("{\"t\":10E-1}"));
        assertEquals(canonical("{\"t\":1000}"), canonical("{\"t\":1e3}"));
        assertEquals(canonical("{\"t\":0}"), canonical("{\"t\":-0.0}"));
        assertEquals(canonical("{\"t\":0.0000001}"), canonical("{\"t\":1e-7}"));
        assertNotEquals(one, canonical("{\"t\":1.01}"));
        assertNotEquals(one, canonical("{\"t\":\"1\"}"), "a string is not a number");
    }

    @Test
    void writesIntegersInPlainDigitsAndHugeOnesBounded() {
        assertEquals("1000", RequestCanonicalizer.number(new DecimalNode(new BigDecimal("1E+3"))));
        assertEquals("7", RequestCanonicalizer.number(IntNode.valueOf(7)));
        assertEquals("1E+400", RequestCanonicalizer.number(new DecimalNode(new BigDecimal("1e400"))));
        assertEquals("0.5", RequestCanonicalizer.number(new DecimalNode(new BigDecimal("0.50"))));
    }

    @Test
    void reescapesStringsOneWay() throws IOException {
        assertEquals(canonical("{\"c\":\"A\\u00e9\\n\"}"), canonical("{\"c\":\"Aé\\n\"}"));
        assertEquals(canonical("{\"c\":\"\\/\"}"), canonical("{\"c\":\"/\"}"));
    }

    @Test
    void leavesOutTopLevelFieldsThatDoNotChangeTheAnswer() throws IOException {
        String bare = canonical("{\"messages\":[]}");

        assertEquals(bare, canonical("{\"model\":\"x\",\"messages\":[],\"user\":\"u1\",\"stream\":true,"
                + "\"stream_options\":{\"include_usage\":true},\"store\":true,\"metadata\":{\"k\":\"v\"},"
                + "\"service_tier\":\"flex\",\"prompt_cache_key\":\"p\",\"safety_identifier\":\"s\"}"));
    }

    @Test
    void keepsNestedFieldsWithIgnoredNames() throws IOException {
        assertNotEquals(canonical("{\"messages\":[{\"user\":\"a\"}]}"),
                        canonical("{\"messages\":[{\"user\":\"b\"}]}"));
    }

    @Test
    void refusesWhatIsNotAJsonObject() {
        assertThrows(IOException.class, () -> canonical("[1,2]"));
        assertThrows(IOException.class, () -> canonical("{\"a\":"));
        assertThrows(IOException.class, () -> canonical("{\"a\":1} {\"b\":2}"));
        assertThrows(IOException.class, () -> canonical(""));
    }

    @Test
    void keySeparatesEndpointScopeAndRoute() throws IOException {
        CacheKey base = key(Endpoint.CHAT_COMPLETIONS, "team:a", "r", "{\"messages\":[]}");

        assertEquals(base, key(Endpoint.CHAT_COMPLETIONS, "team:a", "r", "{ \"messages\" : [ ] }"));
        assertNotEquals(base, key(Endpoint.EMBEDDINGS, "team:a", "r", "{\"messages\":[]}"));
        assertNotEquals(base, key(Endpoint.CHAT_COMPLETIONS, "team:b", "r", "{\"messages\":[]}"));
        assertNotEquals(base, key(Endpoint.CHAT_COMPLETIONS, "team:a", "r2", "{\"messages\":[]}"));
        // Length prefixes: moving a byte from one part to the next is another key.
        assertNotEquals(key(Endpoint.CHAT_COMPLETIONS, "ab", "c", "{}"),
                        key(Endpoint.CHAT_COMPLETIONS, "a", "bc", "{}"));
    }

    static CacheKey key(Endpoint endpoint, String scope, String route, String body) throws IOException {
        return CacheKeys.of(endpoint, scope, route.getBytes(StandardCharsets.UTF_8),
                            new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)));
    }

    private static String canonical(String json) throws IOException {
        return new String(RequestCanonicalizer.canonical(json.getBytes(StandardCharsets.UTF_8)),
                          StandardCharsets.UTF_8);
    }
}
