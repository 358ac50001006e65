package dev.detour.config;

import dev.detour.catalog.Capability;
import dev.detour.catalog.ModelCatalog;
import dev.detour.catalog.ModelInfo;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Binds the top-level {@code models} list: rows that correct or extend the built-in model catalog.
 *
 * <p>A row names a {@code family} (any provider type; {@code azure} reads and writes the {@code openai} rows, as
 * catalog lookups do) and an {@code id}. Fields left out are taken from the built-in row that the id finds by the
 * catalog's usual lookup, so correcting one price is one line; a model the catalog does not know must give at
 * least {@code context-window}. The result is complete {@link ModelInfo} rows, ready for
 * {@link ModelCatalog#withOverrides}. Collects problems like the rest of the binder.
 */
final class ModelsBinder {

    private static final String[] FIELDS = {"family", "id", "context-window", "max-output-tokens", "input-price",
                                            "output-price", "capabilities"};
    private static final Map<String, String> FAMILY_ALIASES = Map.of("azure", "openai");

    private final ModelCatalog builtin;
    private final Map<String, Integer> firstLine = new HashMap<>();

    private ModelsBinder(ModelCatalog builtin) {
        this.builtin = builtin;
    }

    /** Returns the rows of the {@code models} list in {@code node}, in file order; rows with problems are left out. */
    static List<ModelInfo> bind(YamlNode node) {
        return bind(node, ModelCatalog.builtin());
    }

    /** Returns the rows of {@code node}, completing them from {@code builtin}. */
    static List<ModelInfo> bind(YamlNode node, ModelCatalog builtin) {
        ModelsBinder binder = new ModelsBinder(builtin);
        List<ModelInfo> models = new ArrayList<>();
        for (YamlNode item : node.asList().orElseGet(List::of)) {
            binder.model(item).ifPresent(models::add);
        }
        return models;
    }

    private Optional<ModelInfo> model(YamlNode node) {
        YamlMapping m = node.asMapping(FIELDS);
        if (!m.wellFormed()) {
            return Optional.empty();
        }
        Optional<String> family = m.require("family").flatMap(ModelsBinder::family);
        Optional<String> id = m.require("id").flatMap(YamlNode::nonBlankString).map(String::trim);
        Optional<Integer> window = m.get("context-window").flatMap(n -> n.integer(1, Integer.MAX_VALUE));
        Optional<Integer> maxOutput = m.get("max-output-tokens").flatMap(n -> n.integer(0, Integer.MAX_VALUE));
        Optional<BigDecimal> inputPrice = m.get("input-price").flatMap(ModelsBinder::price);
        Optional<BigDecimal> outputPrice = m.get("output-price").flatMap(ModelsBinder::price);
        Optional<Set<Capability>> capabilities = m.get("capabilities").flatMap(ModelsBinder::capabilities);
        if (family.isEmpty() || id.isEmpty()) {
            return Optional.empty();
        }
        String key = family.get() + '\n' + id.get().toLowerCase(Locale.ROOT);
        Integer first = firstLine.putIfAbsent(key, node.line());
        if (first != null) {
            m.get("id").orElse(node).report("duplicate model " + YamlNode.quote(family.get() + "/" + id.get())
                                            + " (first defined at line " + first + ")");
            return Optional.empty();
        }
        Optional<ModelInfo> base = builtin.find(family.get(), id.get());
        if (window.isEmpty() && base.isEmpty()) {
            if (m.get("context-window").isEmpty()) {
                node.reportChild("context-window", "required field is missing (model "
                        + YamlNode.quote(family.get() + "/" + id.get())
                        + " is not in the built-in catalog, so its context window must be given)");
            }
            return Optional.empty();
        }
        // A field that had a problem is reported already; leave the row out rather than guess it.
        if (m.get("context-window").isPresent() && window.isEmpty()
            || m.get("max-output-tokens").isPresent() && maxOutput.isEmpty()
            || m.get("input-price").isPresent() && inputPrice.isEmpty()
            || m.get("output-price").isPresent() && outputPrice.isEmpty()
            || m.get("capabilities").isPresent() && capabilities.isEmpty()) {
            return Optional.empty();
        }
        int contextWindow = window.orElseGet(() -> base.get().contextWindow());
        int output;
        if (maxOutput.isPresent()) {
            output = maxOutput.get();
            if (output > contextWindow) {
                m.get("max-output-tokens").get().report("expected at most the context window (" + contextWindow
                                                        + "), got " + output);
                return Optional.empty();
            }
        } else {
            // An inherited cap never exceeds a smaller window given here.
            output = Math.min(base.map(ModelInfo::maxOutputTokens).orElse(contextWindow), contextWindow);
        }
        return Optional.of(new ModelInfo(
                family.get(), id.get(), contextWindow, output,
                inputPrice.orElseGet(() -> base.map(ModelInfo::inputPricePerMillion).orElse(BigDecimal.ZERO)),
                outputPrice.orElseGet(() -> base.map(ModelInfo::outputPricePerMillion).orElse(BigDecimal.ZERO)),
                capabilities.orElseGet(() -> base.map(ModelInfo::capabilities).orElse(Set.of())),
                List.of()));
    }

    private static Optional<String> family(YamlNode node) {
        Optional<String> text = node.nonBlankString();
        if (text.isEmpty()) {
            return Optional.empty();
        }
        String name = text.get().trim();
        for (ProviderType type : ProviderType.values()) {
            if (type.yamlName().equals(name)) {
                return Optional.of(FAMILY_ALIASES.getOrDefault(name, name));
            }
        }
        List<String> known = new ArrayList<>();
        for (ProviderType type : ProviderType.values()) {
            known.add(type.yamlName());
        }
        node.report("unknown family " + YamlNode.quote(name) + " (expected a provider type: "
                    + String.join(", ", known) + ")");
        return Optional.empty();
    }

    /** Returns a price in USD per million tokens, kept exactly as written ({@code 0.075} stays {@code 0.075}). */
    private static Optional<BigDecimal> price(YamlNode node) {
        Optional<String> text = node.string();
        if (text.isEmpty()) {
            return Optional.empty();
        }
        try {
            BigDecimal price = new BigDecimal(text.get().trim());
            if (price.signum() >= 0) {
                return Optional.of(price);
            }
        } catch (NumberFormatException e) {
            // Reported below.
        }
        node.report("expected a price in USD per million tokens, a decimal >= 0 such as 2.50, got "
                    + YamlNode.quote(text.get()));
        return Optional.empty();
    }

    private static Optional<Set<Capability>> capabilities(YamlNode node) {
        Optional<List<YamlNode>> items = node.asList();
        if (items.isEmpty()) {
            return Optional.empty();
        }
        Set<Capability> capabilities = EnumSet.noneOf(Capability.class);
        boolean ok = true;
        for (YamlNode item : items.get()) {
            Optional<String> name = item.nonBlankString();
            Optional<Capability> capability = name.flatMap(Capability::of);
            if (name.isPresent() && capability.isEmpty()) {
                Map<String, Capability> known = new LinkedHashMap<>();
                for (Capability c : Capability.values()) {
                    known.put(c.yamlName(), c);
                }
                item.report("unknown capability " + YamlNode.quote(name.get()) + " (expected "
                            + YamlNode.alternatives(List.copyOf(known.keySet())) + ")");
            }
            ok &= capability.isPresent();
            capability.ifPresent(capabilities::add);
        }
        return ok ? Optional.of(capabilities) : Optional.empty();
    }
}
