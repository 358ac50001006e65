package dev.detour.catalog;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Optional;

/**
 * The list price of one upstream model in whole numbers, for exact accounting on the hot path: USD per
 * million tokens read as pico-dollars per token ({@code $2.50} per million is 2,500,000 pico-dollars a token),
 * and a request's cost rounded to the nearest micro-dollar.
 *
 * <p>Why pico-dollars: a price per million tokens times a token count is a cost in micro-dollars, so one
 * token costs the price in micro-dollars divided by a million; keeping six more digits holds every published
 * price exactly (they have at most six decimals), and a long holds 9.2 million USD of a single request's
 * tokens, far beyond any real request. Only the per-request result is rounded, to half a micro-dollar at most.
 * Cache discounts and per-request fees are ignored, as {@link ModelCatalog#cost} ignores them.
 *
 * <p>Immutable and thread-safe. Resolved once per target when a config is loaded.
 */
public final class Price {

    /** The price of a model the catalog does not know: cost 0, and {@link #known()} false. */
    public static final Price UNKNOWN = new Price(false, 0, 0);
    /**
     * The price of a model that costs nothing by nature, such as the built-in mock provider's: cost 0, and
     * {@link #known()} true, so that no one is warned about a missing price.
     */
    public static final Price FREE = new Price(true, 0, 0);

    private static final long PICOS_PER_MICRO = 1_000_000L;

    private final boolean known;
    private final long inputPicosPerToken;
    private final long outputPicosPerToken;

    private Price(boolean known, long inputPicosPerToken, long outputPicosPerToken) {
        this.known = known;
        this.inputPicosPerToken = inputPicosPerToken;
        this.outputPicosPerToken = outputPicosPerToken;
    }

    /** Returns the price of {@code model}, or {@link #UNKNOWN} when the catalog has no row for it. */
    public static Price of(Optional<ModelInfo> model) {
        return model.map(Price::of).orElse(UNKNOWN);
    }

    /** Returns the price of {@code model}. */
    public static Price of(ModelInfo model) {
        return new Price(true, picosPerToken(model.inputPricePerMillion()),
                         picosPerToken(model.outputPricePerMillion()));
    }

    /** Returns whether the price comes from a catalog row (a row may well price a model at 0). */
    public boolean known() {
        return known;
    }

    /**
     * Returns the cost of a request in micro-dollars (USD 10<sup>-6</sup>), rounded half up: prompt tokens at the
     * input price plus completion tokens at the output price. Negative counts (unknown) count as 0.
     */
    public long costMicros(long promptTokens, long completionTokens) {
        long picos = Math.max(0, promptTokens) * inputPicosPerToken
                     + Math.max(0, completionTokens) * outputPicosPerToken;
        return (picos + PICOS_PER_MICRO / 2) / PICOS_PER_MICRO;
    }

    private static long picosPerToken(BigDecimal usdPerMillion) {
        // USD per million tokens = micro-dollars per token; six more decimals make pico-dollars.
        return usdPerMillion.movePointRight(6).setScale(0, RoundingMode.HALF_UP).longValueExact();
    }

    @Override
    public String toString() {
        return known ? "Price[" + inputPicosPerToken + "/" + outputPicosPerToken + " pico-USD per token]"
                     : "Price[unknown]";
    }
}
