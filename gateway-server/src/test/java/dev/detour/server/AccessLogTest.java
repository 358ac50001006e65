package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class AccessLogTest {

    private static AccessLog.Entry entry() {
        AccessLog.Entry e = new AccessLog.Entry();
        e.requestId = "req_1";
        e.method = "POST";
        e.path = "/v1/chat/completions";
        e.model = "gpt \"quoted\"";
        e.provider = "openai";
        e.upstreamModel = "gpt-4o-mini";
        e.keyId = "k1";
        e.attempts = 1;
        e.status = 200;
        e.bytesIn = 120;
        e.bytesOut = 640;
        e.latencyNanos = 12_345_678;
        e.upstreamNanos = 10_005_000;
        return e;
    }

    @Test
    void writesKeyValueText() {
        String line = AccessLog.toText(entry());

        assertTrue(line.startsWith("request_id=req_1 client=- method=POST path=/v1/chat/completions"), line);
        assertTrue(line.contains(" status=200 bytes_in=120 bytes_out=640 latency_ms=12.345 upstream_ms=10.005"), line);
    }

    @Test
    void writesOneJsonObject() throws Exception {
        JsonNode json = new ObjectMapper().readTree(AccessLog.toJson(entry()));

        assertEquals("req_1", json.get("request_id").asText());
        assertEquals("gpt \"quoted\"", json.get("model").asText());
        assertEquals(200, json.get("status").asInt());
        assertEquals(12.345, json.get("latency_ms").asDouble(), 1e-9);
        assertEquals("ok", json.get("outcome").asText());
    }

    @Test
    void writesNullUpstreamTimeWhenNoUpstreamWasCalled() throws Exception {
        AccessLog.Entry e = entry();
        e.upstreamNanos = -1;

        assertTrue(new ObjectMapper().readTree(AccessLog.toJson(e)).get("upstream_ms").isNull());
        assertTrue(AccessLog.toText(e).contains("upstream_ms=-"));
    }

    @Test
    void writesTokensAndCost() throws Exception {
        AccessLog.Entry e = entry();
        e.promptTokens = 1200;
        e.completionTokens = 340;
        e.cachedTokens = 1024;
        e.costMicros = 6_400_025;

        assertTrue(AccessLog.toText(e).contains(" upstream_ms=10.005 prompt_tokens=1200 completion_tokens=340 "
                                                + "cached_tokens=1024 cost_usd=6.400025 cache=- outcome=ok"),
                   AccessLog.toText(e));
        JsonNode json = new ObjectMapper().readTree(AccessLog.toJson(e));
        assertEquals(1200, json.get("prompt_tokens").asLong());
        assertEquals(340, json.get("completion_tokens").asLong());
        assertEquals(1024, json.get("cached_tokens").asLong());
        assertEquals("6.400025", json.get("cost_usd").decimalValue().toPlainString());
    }

    @Test
    void writesWhatTheCacheDid() throws Exception {
        AccessLog.Entry e = entry();
        e.cache = "hit";

        assertTrue(AccessLog.toText(e).contains(" cache=hit outcome=ok"), AccessLog.toText(e));
        assertEquals("hit", new ObjectMapper().readTree(AccessLog.toJson(e)).get("cache").asText());
    }

    @Test
    void writesSmallCostsWithLeadingZeros() {
        AccessLog.Entry e = entry();
        e.promptTokens = 3;
        e.completionTokens = 0;
        e.costMicros = 42;

        assertTrue(AccessLog.toText(e).contains(" cost_usd=0.000042 "), AccessLog.toText(e));
    }

    @Test
    void writesNoUsageWhenNoneWasReported() throws Exception {
        AccessLog.Entry e = entry();

        assertTrue(AccessLog.toText(e).contains(" prompt_tokens=- completion_tokens=- cached_tokens=- cost_usd=- "),
                   AccessLog.toText(e));
        JsonNode json = new ObjectMapper().readTree(AccessLog.toJson(e));
        assertTrue(json.get("prompt_tokens").isNull());
        assertTrue(json.get("cost_usd").isNull());
    }
}
