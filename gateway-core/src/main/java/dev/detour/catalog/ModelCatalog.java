package dev.detour.catalog;

import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Well-known models by provider family and id: limits, list prices and capabilities.
 *
 * <pre>{@code
 * ModelCatalog catalog = ModelCatalog.builtin();
 * catalog.find("openai", "gpt-4o-2024-08-06")          // the gpt-4o row
 *        .map(m -> m.cost(usage.promptTokens(), usage.completionTokens()));
 * }</pre>
 *
 * <h2>Lookup</h2>
 * {@link #find} ignores case in both family and id and tries, in order, stopping at the first hit:
 * <ol>
 *   <li>the id or one of a row's aliases, exactly;</li>
 *   <li>the id without a routing prefix: Gemini's {@code models/}, Bedrock's cross-region inference prefixes
 *       ({@code us.}, {@code eu.}, {@code apac.}, {@code global.}, ...), and for Fireworks a short id gets its
 *       {@code accounts/fireworks/models/} path;</li>
 *   <li>the id with version suffixes removed one at a time, each shorter id tried as it is and with
 *       {@code -latest}: {@code -latest}, a date ({@code -2024-08-06}, {@code -20241022}, {@code @20241022}),
 *       four or three digits ({@code -0613}, {@code -2411}, {@code -001}), a version ({@code -v2:0},
 *       {@code -v0.1}). So {@code gpt-4o-2024-08-06} finds {@code gpt-4o} and {@code mistral-large-2411} finds
 *       {@code mistral-large-latest}; a snapshot priced differently has its own row, which step 1 finds
 *       first.</li>
 * </ol>
 * Family {@code azure} reads the {@code openai} rows (Azure's list prices follow OpenAI's; a deployment name
 * that is not a model id finds nothing). Family {@code openrouter} takes {@code vendor/model[:variant]} ids and
 * reads the vendor's family ({@code google/} is {@code gemini}, {@code x-ai/} is {@code xai}, dots in Anthropic
 * versions become dashes); OpenRouter passes list prices through, and {@code :free} variants find nothing, unless
 * an override of family {@code openrouter} names the id exactly (such rows are found first).
 * Nothing else is guessed: an unknown id is empty, never the nearest neighbour's price.
 *
 * <p>Immutable and thread-safe. The built-in catalog is parsed once, on first use.
 */
public final class ModelCatalog {

    /** The built-in data file, next to this class. */
    static final String RESOURCE = "models.csv";

    private static final Map<String, String> FAMILY_ALIASES = Map.of("azure", "openai");
    private static final Map<String, String> OPENROUTER_VENDORS = Map.of(
            "openai", "openai", "anthropic", "anthropic", "google", "gemini", "mistralai", "mistral",
            "x-ai", "xai", "deepseek", "deepseek", "perplexity", "perplexity");
    private static final List<String> BEDROCK_REGION_PREFIXES = List.of(
            "us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au.", "ca.");
    private static final String FIREWORKS_PATH = "accounts/fireworks/models/";
    private static final Pattern VERSION_SUFFIX = Pattern.compile(
            "(?:-latest|-\\d{4}-\\d{2}-\\d{2}|[-@]\\d{8}|-\\d{4}|-\\d{3}|-v\\d+(?:[.:]\\d+)*)$");
    private static final int MAX_SUFFIXES = 4;
    private static final double PER_MILLION = 1_000_000d;

    private final List<ModelInfo> models;
    private final Map<String, ModelInfo> index;
    private final LocalDate asOf;

    private ModelCatalog(List<ModelInfo> models, LocalDate asOf) {
        this.models = List.copyOf(models);
        this.index = index(this.models);
        this.asOf = asOf;
    }

    /** Returns the catalog shipped with Detour; parsed on first call. */
    public static ModelCatalog builtin() {
        return Builtin.CATALOG;
    }

    /**
     * Returns a catalog of {@code models}.
     *
     * @throws IllegalArgumentException if two rows, or a row and an alias, share a family and id
     */
    public static ModelCatalog of(List<ModelInfo> models) {
        return new ModelCatalog(models, null);
    }

    /** Reads a catalog in the built-in file's CSV format; {@code source} names it in error messages. */
    static ModelCatalog read(Reader csv, String source) {
        CatalogCsv.Parsed parsed = CatalogCsv.parse(csv, source);
        return new ModelCatalog(parsed.models(), parsed.asOf());
    }

    /**
     * Returns the list price in USD of a request: prompt tokens at the input price plus completion tokens
     * (reasoning included) at the output price. Ignores cache discounts, batch prices and per-request fees.
     */
    public static double cost(ModelInfo model, long promptTokens, long completionTokens) {
        Objects.requireNonNull(model, "model");
        if (promptTokens < 0 || completionTokens < 0) {
            throw new IllegalArgumentException("tokens: " + promptTokens + "/" + completionTokens
                                               + " (expected: >= 0)");
        }
        return promptTokens * model.inputPricePerMillion().doubleValue() / PER_MILLION
               + completionTokens * model.outputPricePerMillion().doubleValue() / PER_MILLION;
    }

    /**
     * Returns a catalog where each of {@code overrides} replaces the row of the same family and id, keeping its
     * position and its aliases (so a corrected {@code gpt-4o} price also applies to {@code gpt-4o-2024-08-06}),
     * or is added at the end. An override whose id was another row's alias takes that id over.
     *
     * @throws IllegalArgumentException if two overrides share a family and id, or an override's alias is
     *                                  another row's id
     */
    public ModelCatalog withOverrides(List<ModelInfo> overrides) {
        Map<String, ModelInfo> rows = new LinkedHashMap<>();
        for (ModelInfo m : models) {
            rows.put(key(m.family(), m.id()), m);
        }
        Set<String> overridden = new LinkedHashSet<>();
        for (ModelInfo o : overrides) {
            String k = key(o.family(), o.id());
            if (!overridden.add(k)) {
                throw new IllegalArgumentException("overrides: " + o.family() + "/" + o.id() + " given twice");
            }
            // The override's id wins over an alias of another row.
            rows.replaceAll((rk, m) -> m.family().equals(o.family()) && !rk.equals(k) ? withoutAlias(m, o.id()) : m);
            ModelInfo old = rows.get(k);
            rows.put(k, old == null ? o : withAliases(o, old.aliases()));
        }
        return new ModelCatalog(new ArrayList<>(rows.values()), asOf);
    }

    /** Returns the model {@code modelId} of {@code family}, by the rules in the class comment. */
    public Optional<ModelInfo> find(String family, String modelId) {
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(modelId, "modelId");
        String f = family.trim().toLowerCase(Locale.ROOT);
        f = FAMILY_ALIASES.getOrDefault(f, f);
        String id = modelId.trim();
        if (f.equals("openrouter")) {
            // An operator's own openrouter row (a :free variant, a vendor without a family here) wins.
            ModelInfo own = exact(f, id);
            return Optional.ofNullable(own != null ? own : findOpenRouter(id));
        }
        return Optional.ofNullable(lookup(f, id));
    }

    /** Returns every row, in file order (overrides that added rows last); aliases are not listed separately. */
    public List<ModelInfo> models() {
        return models;
    }

    /** Returns the date the built-in prices were compiled, or empty for a catalog built with {@link #of}. */
    public Optional<LocalDate> asOf() {
        return Optional.ofNullable(asOf);
    }

    @Override
    public String toString() {
        return "ModelCatalog[" + models.size() + " models" + (asOf == null ? "" : ", as of " + asOf) + "]";
    }

    private ModelInfo lookup(String family, String id) {
        ModelInfo m = exact(family, id);
        if (m != null) {
            return m;
        }
        String base = withoutPrefix(family, id);
        if (!base.equals(id)) {
            m = exact(family, base);
            if (m != null) {
                return m;
            }
        }
        String current = base;
        for (int i = 0; i < MAX_SUFFIXES; i++) {
            Matcher suffix = VERSION_SUFFIX.matcher(current);
            if (!suffix.find() || suffix.start() == 0) {
                return null;
            }
            current = current.substring(0, suffix.start());
            m = exact(family, current);
            if (m == null) {
                m = exact(family, current + "-latest");
            }
            if (m != null) {
                return m;
            }
        }
        return null;
    }

    private ModelInfo findOpenRouter(String id) {
        String model = id;
        int colon = model.lastIndexOf(':');
        if (colon > 0) {
            if (model.substring(colon + 1).equalsIgnoreCase("free")) {
                return null;
            }
            model = model.substring(0, colon); // :nitro, :floor, :online, :thinking, ... are routing options
        }
        int slash = model.indexOf('/');
        if (slash <= 0) {
            return null;
        }
        String family = OPENROUTER_VENDORS.get(model.substring(0, slash).toLowerCase(Locale.ROOT));
        if (family == null) {
            return null;
        }
        String rest = model.substring(slash + 1);
        ModelInfo m = lookup(family, rest);
        if (m == null && family.equals("anthropic") && rest.indexOf('.') >= 0) {
            m = lookup(family, rest.replace('.', '-'));
        }
        return m;
    }

    private ModelInfo exact(String family, String id) {
        return index.get(key(family, id));
    }

    private static String withoutPrefix(String family, String id) {
        switch (family) {
            case "gemini":
                return id.startsWith("models/") ? id.substring("models/".length()) : id;
            case "bedrock":
                for (String prefix : BEDROCK_REGION_PREFIXES) {
                    if (id.startsWith(prefix)) {
                        return id.substring(prefix.length());
                    }
                }
                return id;
            case "fireworks":
                return id.indexOf('/') < 0 ? FIREWORKS_PATH + id : id;
            default:
                return id;
        }
    }

    private static Map<String, ModelInfo> index(List<ModelInfo> models) {
        Map<String, ModelInfo> index = new HashMap<>(models.size() * 3);
        for (ModelInfo m : models) {
            put(index, key(m.family(), m.id()), m);
            for (String alias : m.aliases()) {
                put(index, key(m.family(), alias), m);
            }
        }
        return Map.copyOf(index);
    }

    private static void put(Map<String, ModelInfo> index, String key, ModelInfo m) {
        ModelInfo previous = index.putIfAbsent(key, m);
        if (previous != null) {
            throw new IllegalArgumentException("duplicate model id " + key.replace('\n', '/') + " (in rows "
                                               + previous.id() + " and " + m.id() + ")");
        }
    }

    private static String key(String family, String id) {
        return family.toLowerCase(Locale.ROOT) + '\n' + id.toLowerCase(Locale.ROOT);
    }

    private static ModelInfo withoutAlias(ModelInfo m, String alias) {
        if (m.aliases().stream().noneMatch(a -> a.equalsIgnoreCase(alias))) {
            return m;
        }
        List<String> kept = new ArrayList<>(m.aliases());
        kept.removeIf(a -> a.equalsIgnoreCase(alias));
        return copy(m, kept);
    }

    private static ModelInfo withAliases(ModelInfo override, List<String> inherited) {
        List<String> all = new ArrayList<>(override.aliases());
        for (String a : inherited) {
            if (all.stream().noneMatch(x -> x.equalsIgnoreCase(a)) && !a.equalsIgnoreCase(override.id())) {
                all.add(a);
            }
        }
        return all.size() == override.aliases().size() ? override : copy(override, all);
    }

    private static ModelInfo copy(ModelInfo m, List<String> aliases) {
        return new ModelInfo(m.family(), m.id(), m.contextWindow(), m.maxOutputTokens(), m.inputPricePerMillion(),
                             m.outputPricePerMillion(), m.capabilities(), aliases);
    }

    /** Holds the built-in catalog, parsed when first asked for (the JVM's lazy class initialisation). */
    private static final class Builtin {
        static final ModelCatalog CATALOG = load();

        private static ModelCatalog load() {
            InputStream in = ModelCatalog.class.getResourceAsStream(RESOURCE);
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the class path next to "
                                                + ModelCatalog.class.getName());
            }
            return read(new InputStreamReader(in, StandardCharsets.UTF_8), RESOURCE);
        }
    }
}
