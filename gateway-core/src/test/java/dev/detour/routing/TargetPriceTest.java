package dev.detour.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.catalog.Price;
import dev.detour.config.ConfigLoader;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which price a target's requests are charged at: the catalog's, the mock's nothing, or unknown. */
class TargetPriceTest {

    private static RouteTable routes(String models) throws Exception {
        return RouteTable.of(ConfigLoader.parse("""
                providers:
                  mock:
                    type: mock
                  openai:
                    type: openai
                    base-url: https://api.openai.com/v1
                    keys: [{id: k, value: sk-test-price-0001}]
                routes:
                  - model: free
                    targets: [{provider: mock}]
                  - model: real
                    targets: [{provider: openai, model: gpt-4o-mini}]
                  - model: made-up
                    targets: [{provider: openai, model: no-such-model-anywhere}]
                """ + models, "test.yaml", Map.of()), 1_700_000_000L);
    }

    @Test
    void mockWithoutACatalogRowIsFreeAndKnownSoNoOneIsWarned() throws Exception {
        Price price = routes("").route("free").targets().get(0).price();

        assertSame(Price.FREE, price);
        assertTrue(price.known());
        assertEquals(0, price.costMicros(1_000_000, 1_000_000));
    }

    @Test
    void mockPricedThroughModelsIsCharged() throws Exception {
        Price price = routes("""
                models:
                  - family: mock
                    id: free
                    context-window: 128000
                    input-price: 1
                    output-price: 2
                """).route("free").targets().get(0).price();

        assertTrue(price.known());
        assertEquals(3, price.costMicros(1_000_000, 1_000_000) / 1_000_000);
    }

    @Test
    void catalogModelsArePricedAndUnknownModelsAreNot() throws Exception {
        RouteTable routes = routes("");

        assertTrue(routes.route("real").targets().get(0).price().known());
        assertTrue(routes.route("real").targets().get(0).price().costMicros(1_000_000, 0) > 0);
        assertFalse(routes.route("made-up").targets().get(0).price().known());
    }
}
