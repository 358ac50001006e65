package dev.detour.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PriceTest {

    private static Price price(String input, String output) {
        return Price.of(ModelInfo.of("openai", "m", 128_000, 16_000, input, output, Set.of()));
    }

    @Test
    void costsListPriceInMicroDollars() {
        Price gpt4o = price("2.50", "10.00");

        // 1,000 prompt tokens at $2.50/M = $0.0025; 500 completion tokens at $10/M = $0.005
        assertEquals(7_500, gpt4o.costMicros(1_000, 500));
    }

    @Test
    void keepsPricesWithManyDecimalsExact() {
        Price flash = price("0.075", "0.0375");

        assertEquals(75, flash.costMicros(1_000, 0));
        assertEquals(375, flash.costMicros(0, 10_000));
    }

    @Test
    void roundsEachRequestToTheNearestMicroDollar() {
        Price cheap = price("0.10", "0.40");

        assertEquals(0, cheap.costMicros(4, 0), "0.4 micro-dollars");
        assertEquals(1, cheap.costMicros(5, 0), "0.5 micro-dollars rounds up");
        assertEquals(1_000_000, cheap.costMicros(10_000_000, 0));
    }

    @Test
    void unknownModelsCostNothingAndSaySo() {
        Price unknown = Price.of(Optional.empty());

        assertFalse(unknown.known());
        assertEquals(0, unknown.costMicros(1_000_000, 1_000_000));
        assertTrue(price("0", "0").known(), "a free model is still a known price");
    }

    @Test
    void treatsUnreportedCountsAsZero() {
        assertEquals(2_500, price("2.50", "10.00").costMicros(1_000, -1));
    }

    @Test
    void holdsAMonthOfTokensOfAnExpensiveModelWithoutOverflow() {
        Price opus = price("15", "75");

        assertEquals(75_000_000_000L, opus.costMicros(0, 1_000_000_000L), "a billion output tokens cost $75,000");
    }
}
