package dev.detour.catalog;

import java.math.BigDecimal;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * One model of one provider family: its limits, list prices and capabilities.
 *
 * <p>Prices are {@link BigDecimal}: list prices are decimal figures ({@code 0.075}, {@code 0.0375}) that must
 * read back exactly as published (in admin views and when an override is compared with the built-in row), and
 * a double cannot hold most of them. {@link #cost} multiplies in {@code double}, which is exact to far below a
 * cent for any real token count and allocates nothing per request.
 *
 * @param family                provider family, lower case ({@code openai}, {@code anthropic}, {@code bedrock}, ...)
 * @param id                    the model id the provider's API takes
 * @param contextWindow         tokens of prompt plus completion, {@code > 0}
 * @param maxOutputTokens       largest completion: the context window when the provider sets no separate cap,
 *                              0 for embedding models; {@code <= contextWindow}
 * @param inputPricePerMillion  USD per million prompt tokens, {@code >= 0}
 * @param outputPricePerMillion USD per million completion tokens (reasoning tokens included), {@code >= 0}
 * @param capabilities          what the model can do
 * @param aliases               other ids of the same model and price (dated snapshots, provider aliases)
 */
public record ModelInfo(String family, String id, int contextWindow, int maxOutputTokens,
                        BigDecimal inputPricePerMillion, BigDecimal outputPricePerMillion,
                        Set<Capability> capabilities, List<String> aliases) {

    public ModelInfo {
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(inputPricePerMillion, "inputPricePerMillion");
        Objects.requireNonNull(outputPricePerMillion, "outputPricePerMillion");
        Objects.requireNonNull(capabilities, "capabilities");
        Objects.requireNonNull(aliases, "aliases");
        if (family.isBlank() || !family.equals(family.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException("family: '" + family + "' (expected: a lower-case name)");
        }
        if (id.isBlank()) {
            throw new IllegalArgumentException("id: blank (expected: a model id)");
        }
        if (contextWindow <= 0) {
            throw new IllegalArgumentException(id + ": contextWindow: " + contextWindow + " (expected: > 0)");
        }
        if (maxOutputTokens < 0 || maxOutputTokens > contextWindow) {
            throw new IllegalArgumentException(id + ": maxOutputTokens: " + maxOutputTokens
                                               + " (expected: 0 to contextWindow " + contextWindow + ")");
        }
        if (inputPricePerMillion.signum() < 0 || outputPricePerMillion.signum() < 0) {
            throw new IllegalArgumentException(id + ": prices: " + inputPricePerMillion + "/" + outputPricePerMillion
                                               + " (expected: >= 0)");
        }
        capabilities = capabilities.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(capabilities));
        aliases = List.copyOf(aliases);
        for (String alias : aliases) {
            if (alias.isBlank() || alias.equalsIgnoreCase(id)) {
                throw new IllegalArgumentException(id + ": alias '" + alias + "' (expected: another, non-blank id)");
            }
        }
    }

    /** Returns a model without aliases, e.g. for an override from config. */
    public static ModelInfo of(String family, String id, int contextWindow, int maxOutputTokens,
                               String inputPricePerMillion, String outputPricePerMillion,
                               Set<Capability> capabilities) {
        return new ModelInfo(family, id, contextWindow, maxOutputTokens, new BigDecimal(inputPricePerMillion),
                             new BigDecimal(outputPricePerMillion), capabilities, List.of());
    }

    /** Returns whether the model has {@code capability}. */
    public boolean supports(Capability capability) {
        return capabilities.contains(capability);
    }

    /** Returns the list price in USD of a request with these token counts; see {@link ModelCatalog#cost}. */
    public double cost(long promptTokens, long completionTokens) {
        return ModelCatalog.cost(this, promptTokens, completionTokens);
    }
}
