package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.server.testing.Eventually;
import dev.detour.server.testing.Scrape;
import dev.detour.server.testing.TestGateway;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/**
 * The response cache in the metrics, with the real cache: a miss, a hit and a bypass are labelled on
 * {@code detour_requests_total}, counted by the cache's own counters, and the hit charges no tokens.
 */
class MetricsCacheIT {

    private static final String BODY = "{\"model\":\"chat\",\"max_tokens\":5,"
                                       + "\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]}";

    @Test
    void labelsAndCountsMissesHitsAndBypasses() throws Exception {
        try (TestGateway gateway = TestGateway.start("""
                providers:
                  mock:
                    type: mock
                routes:
                  - model: chat
                    targets: [{provider: mock}]
                    cache: {enabled: true}
                """)) {
            HttpResponse<String> miss = gateway.postJson("/v1/chat/completions", BODY);
            HttpResponse<String> hit = gateway.postJson("/v1/chat/completions", BODY);
            HttpResponse<String> bypass = gateway.postJson("/v1/completions",
                    "{\"model\":\"chat\",\"prompt\":\"hi\",\"max_tokens\":3}");
            assertEquals("MISS", miss.headers().firstValue("x-detour-cache").orElseThrow());
            assertEquals("HIT", hit.headers().firstValue("x-detour-cache").orElseThrow());
            assertEquals("BYPASS", bypass.headers().firstValue("x-detour-cache").orElseThrow());

            gateway.awaitIdle();
            awaitWeighed(gateway);
            Scrape scrape = Scrape.parse(gateway.get("/metrics").body());

            assertEquals(1.0, scrape.sum("detour_requests_total", "route", "chat", "cache", "miss"));
            assertEquals(1.0, scrape.sum("detour_requests_total", "route", "chat", "cache", "hit"));
            assertEquals(1.0, scrape.sum("detour_requests_total", "route", "chat", "cache", "bypass"));
            assertEquals(1.0, scrape.value("detour_cache_hits_total"));
            assertEquals(1.0, scrape.value("detour_cache_misses_total"));
            assertEquals(1.0, scrape.value("detour_cache_entries"));
            assertTrue(scrape.value("detour_cache_size_bytes") > 0);
            // Tokens: the miss and the bypass went upstream; the hit, served from memory, adds none.
            double prompt = scrape.sum("detour_tokens_total", "type", "prompt");
            assertTrue(prompt > 0, scrape.text());
            double missPrompt = Double.parseDouble(miss.body().replaceAll(".*\"prompt_tokens\":(\\d+).*", "$1"));
            double bypassPrompt = Double.parseDouble(bypass.body().replaceAll(".*\"prompt_tokens\":(\\d+).*", "$1"));
            assertEquals(missPrompt + bypassPrompt, prompt, "the hit charged no tokens");
        }
    }

    /**
     * Waits until the cache's size counts the stored entry: Caffeine adds an entry's weight in its upkeep, which
     * runs on another thread a moment after the store.
     */
    static void awaitWeighed(TestGateway gateway) {
        Eventually.assertThat(() -> gateway.server().cache().stats().bytes() > 0,
                              () -> "the stored entry is weighed: " + gateway.server().cache().stats());
    }
}
