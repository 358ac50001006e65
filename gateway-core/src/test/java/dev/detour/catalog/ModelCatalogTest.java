package dev.detour.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class ModelCatalogTest {

    private static final Set<String> FAMILIES = Set.of("openai", "anthropic", "gemini", "mistral", "groq", "together",
                                                       "fireworks", "deepseek", "xai", "perplexity", "cerebras",
                                                       "bedrock");
    private static final ModelCatalog CATALOG = ModelCatalog.builtin();

    // --- the built-in data ---

    @Test
    void loadsEveryBuiltinRowWithItsDate() {
        assertTrue(CATALOG.models().size() >= 200, "rows: " + CATALOG.models().size());
        assertEquals(Optional.of(LocalDate.of(2025, 11, 30)), CATALOG.asOf());
    }

    @Test
    void returnsTheSameBuiltinInstance() {
        assertSame(CATALOG, ModelCatalog.builtin());
    }

    @Test
    void coversEveryDocumentedFamilyAndNoOther() {
        Set<String> seen = new TreeSet<>();
        CATALOG.models().forEach(m -> seen.add(m.family()));

        assertEquals(new TreeSet<>(FAMILIES), seen);
    }

    @Test
    void hasSaneFiguresInEveryRow() {
        for (ModelInfo m : CATALOG.models()) {
            String name = m.family() + "/" + m.id();
            if (m.supports(Capability.EMBEDDINGS)) {
                assertEquals(0, m.maxOutputTokens(), name);
                assertEquals(BigDecimal.ZERO, m.outputPricePerMillion().stripTrailingZeros(), name);
            } else {
                assertTrue(m.maxOutputTokens() > 0, name);
            }
            assertTrue(m.inputPricePerMillion().compareTo(new BigDecimal("200")) < 0, name + ": input price");
            assertTrue(m.outputPricePerMillion().compareTo(new BigDecimal("700")) < 0, name + ": output price");
            assertTrue(m.contextWindow() >= 512, name);
        }
    }

    @Test
    void loadsQuickly() {
        assertTimeoutPreemptively(Duration.ofSeconds(2), () -> {
            try (InputStream in = ModelCatalog.class.getResourceAsStream(ModelCatalog.RESOURCE)) {
                ModelCatalog.read(new InputStreamReader(in, StandardCharsets.UTF_8), "models.csv");
            }
        });
    }

    // --- lookup ---

    @Test
    void findsExactIdIgnoringCase() {
        ModelInfo m = CATALOG.find("OpenAI", "GPT-4o").orElseThrow();

        assertEquals("gpt-4o", m.id());
        assertEquals(new BigDecimal("2.50"), m.inputPricePerMillion());
        assertEquals(128000, m.contextWindow());
        assertTrue(m.supports(Capability.TOOLS) && m.supports(Capability.VISION));
    }

    @Test
    void findsDatedSnapshotsByTheirBase() {
        assertEquals("gpt-4o", id("openai", "gpt-4o-2024-08-06"));
        assertEquals("gpt-4.1", id("openai", "gpt-4.1-2025-04-14"));
        assertEquals("gpt-4", id("openai", "gpt-4-0613"));
        assertEquals("claude-3-5-sonnet", id("anthropic", "claude-3-5-sonnet-20241022"));
        assertEquals("claude-3-5-sonnet", id("anthropic", "claude-3-5-sonnet-latest"));
        assertEquals("claude-sonnet-4-5", id("anthropic", "claude-sonnet-4-5@20250929"));
        assertEquals("mistral-large-latest", id("mistral", "mistral-large-2402"));
        assertEquals("gemini-1.5-pro", id("gemini", "gemini-1.5-pro-002"));
        assertEquals("grok-2-1212", id("xai", "grok-2"));
    }

    @Test
    void prefersASnapshotThatHasItsOwnPrice() {
        ModelInfo m = CATALOG.find("openai", "gpt-4o-2024-05-13").orElseThrow();

        assertEquals(new BigDecimal("5.00"), m.inputPricePerMillion());
    }

    @Test
    void stripsRoutingPrefixes() {
        assertEquals("anthropic.claude-sonnet-4-5-20250929-v1:0",
                     id("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"));
        assertEquals("anthropic.claude-3-haiku-20240307-v1:0",
                     id("bedrock", "eu.anthropic.claude-3-haiku-20240307-v1:0"));
        assertEquals("gemini-2.5-flash", id("gemini", "models/gemini-2.5-flash"));
        assertEquals("accounts/fireworks/models/deepseek-v3", id("fireworks", "deepseek-v3"));
    }

    @Test
    void readsAzureFromOpenAiRows() {
        assertEquals("gpt-4o-mini", id("azure", "gpt-4o-mini"));
        assertEquals(Optional.empty(), CATALOG.find("azure", "my-prod-deployment"));
    }

    @Test
    void readsOpenRouterIdsFromTheVendorsFamily() {
        assertEquals("gpt-4o", id("openrouter", "openai/gpt-4o"));
        assertEquals("claude-3-5-sonnet", id("openrouter", "anthropic/claude-3.5-sonnet"));
        assertEquals("claude-sonnet-4-5", id("openrouter", "anthropic/claude-sonnet-4.5"));
        assertEquals("gemini-2.5-pro", id("openrouter", "google/gemini-2.5-pro"));
        assertEquals("grok-4", id("openrouter", "x-ai/grok-4"));
        assertEquals("deepseek-chat", id("openrouter", "deepseek/deepseek-chat:nitro"));
    }

    @Test
    void findsNothingForFreeVariantsAndUnknownVendors() {
        assertEquals(Optional.empty(), CATALOG.find("openrouter", "openai/gpt-4o:free"));
        assertEquals(Optional.empty(), CATALOG.find("openrouter", "meta-llama/llama-3.3-70b-instruct"));
        assertEquals(Optional.empty(), CATALOG.find("openrouter", "gpt-4o"));
    }

    @Test
    void findsAnOpenRouterOverrideBeforeTheVendorsRow() {
        ModelInfo free = ModelInfo.of("openrouter", "openai/gpt-4o:free", 64000, 4096, "0", "0", Set.of());
        ModelInfo llama = ModelInfo.of("openrouter", "meta-llama/llama-3.3-70b-instruct", 131072, 16384, "0.13",
                                       "0.40", Set.of());

        ModelCatalog c = CATALOG.withOverrides(List.of(free, llama));

        assertEquals(free, c.find("openrouter", "openai/gpt-4o:free").orElseThrow());
        assertEquals(llama, c.find("openrouter", "Meta-Llama/llama-3.3-70b-instruct").orElseThrow());
        assertEquals("gpt-4o", c.find("openrouter", "openai/gpt-4o").orElseThrow().id(), "other ids: vendor rows");
    }

    @Test
    void neverGuessesFromANearbyName() {
        assertEquals(Optional.empty(), CATALOG.find("openai", "gpt-4o-mini-transcribe"));
        assertEquals(Optional.empty(), CATALOG.find("openai", "o3-mini-high"));
        assertEquals(Optional.empty(), CATALOG.find("openai", "latest"));
        assertEquals(Optional.empty(), CATALOG.find("ollama", "llama3.2:3b"));
        assertEquals(Optional.empty(), CATALOG.find("anthropic", "gpt-4o"));
    }

    // --- cost ---

    @Test
    void computesListPriceCost() {
        ModelInfo gpt4o = CATALOG.find("openai", "gpt-4o").orElseThrow();

        assertEquals(0.0075, ModelCatalog.cost(gpt4o, 1_000, 500), 1e-12);
        assertEquals(0.0075, gpt4o.cost(1_000, 500), 1e-12);
        assertEquals(0.0, gpt4o.cost(0, 0));
    }

    @Test
    void computesCostOfSubCentPrices() {
        ModelInfo lite = CATALOG.find("gemini", "gemini-1.5-flash-8b").orElseThrow();

        assertEquals(0.0375 + 0.15, lite.cost(1_000_000, 1_000_000), 1e-12);
    }

    @Test
    void refusesNegativeTokenCounts() {
        ModelInfo m = CATALOG.find("openai", "gpt-4o").orElseThrow();

        assertThrows(IllegalArgumentException.class, () -> m.cost(-1, 0));
    }

    // --- overrides ---

    @Test
    void overrideReplacesFiguresAndKeepsAliases() {
        ModelInfo cheaper = ModelInfo.of("openai", "gpt-4o", 128000, 16384, "1.00", "4.00",
                                         EnumSet.of(Capability.TOOLS, Capability.STREAMING));

        ModelCatalog c = CATALOG.withOverrides(List.of(cheaper));

        assertEquals(new BigDecimal("1.00"), c.find("openai", "gpt-4o").orElseThrow().inputPricePerMillion());
        assertEquals(new BigDecimal("1.00"),
                     c.find("openai", "gpt-4o-2024-08-06").orElseThrow().inputPricePerMillion());
        assertEquals(CATALOG.models().size(), c.models().size());
        assertEquals(new BigDecimal("2.50"), CATALOG.find("openai", "gpt-4o").orElseThrow().inputPricePerMillion(),
                     "the built-in catalog is unchanged");
    }

    @Test
    void overrideAddsANewModel() {
        ModelInfo local = ModelInfo.of("vllm", "qwen2.5-7b", 32768, 8192, "0", "0", EnumSet.of(Capability.STREAMING));

        ModelCatalog c = CATALOG.withOverrides(List.of(local));

        assertEquals(local, c.find("vllm", "qwen2.5-7b").orElseThrow());
        assertEquals(local, c.models().get(c.models().size() - 1));
    }

    @Test
    void overrideTakesAnAliasOverFromItsRow() {
        ModelInfo snapshot = ModelInfo.of("openai", "gpt-4o-2024-11-20", 128000, 16384, "3.00", "12.00", Set.of());

        ModelCatalog c = CATALOG.withOverrides(List.of(snapshot));

        assertEquals(new BigDecimal("3.00"),
                     c.find("openai", "gpt-4o-2024-11-20").orElseThrow().inputPricePerMillion());
        assertEquals(new BigDecimal("2.50"),
                     c.find("openai", "gpt-4o-2024-08-06").orElseThrow().inputPricePerMillion());
    }

    @Test
    void refusesTheSameOverrideTwice() {
        ModelInfo a = ModelInfo.of("openai", "x", 10, 10, "1", "1", Set.of());

        assertThrows(IllegalArgumentException.class, () -> CATALOG.withOverrides(List.of(a, a)));
    }

    @Test
    void refusesAnOverrideAliasThatIsAnotherRowsId() {
        ModelInfo clash = new ModelInfo("openai", "my-4o", 10, 10, BigDecimal.ONE, BigDecimal.ONE, Set.of(),
                                        List.of("gpt-4o-mini"));

        assertThrows(IllegalArgumentException.class, () -> CATALOG.withOverrides(List.of(clash)));
    }

    @Test
    void refusesInvalidModelFigures() {
        assertThrows(IllegalArgumentException.class,
                     () -> ModelInfo.of("openai", "x", 100, 200, "1", "1", Set.of()));
        assertThrows(IllegalArgumentException.class,
                     () -> ModelInfo.of("openai", "x", 100, 10, "-1", "1", Set.of()));
        assertThrows(IllegalArgumentException.class,
                     () -> ModelInfo.of("OpenAI", "x", 100, 10, "1", "1", Set.of()));
        assertThrows(IllegalArgumentException.class,
                     () -> ModelInfo.of("openai", " ", 100, 10, "1", "1", Set.of()));
    }

    // --- malformed files ---

    @Test
    void namesTheLineOfARowWithTooFewFields() {
        IllegalArgumentException e = malformed("openai,gpt-x,1000,100,1.00,2.00,tools\n");

        assertTrue(e.getMessage().startsWith("bad.csv:3: 7 fields"), e.getMessage());
    }

    @Test
    void refusesAMalformedPrice() {
        IllegalArgumentException e = malformed("openai,gpt-x,1000,100,$1,2.00,tools,\n");

        assertTrue(e.getMessage().contains("bad.csv:3: input_usd_per_mtok: '$1'"), e.getMessage());
    }

    @Test
    void refusesAnUnknownCapability() {
        IllegalArgumentException e = malformed("openai,gpt-x,1000,100,1,2,tools|telepathy,\n");

        assertTrue(e.getMessage().contains("bad.csv:3: capability 'telepathy'"), e.getMessage());
    }

    @Test
    void refusesAnOutputCapAboveTheContextWindow() {
        IllegalArgumentException e = malformed("openai,gpt-x,1000,2000,1,2,,\n");

        assertTrue(e.getMessage().startsWith("bad.csv:3: gpt-x: maxOutputTokens: 2000"), e.getMessage());
    }

    @Test
    void refusesADuplicateIdOrAlias() {
        IllegalArgumentException e = malformed("openai,gpt-x,1000,100,1,2,,gpt-y\nopenai,gpt-y,1000,100,1,2,,\n");

        assertTrue(e.getMessage().contains("duplicate model id openai/gpt-y"), e.getMessage());
    }

    @Test
    void refusesSpacesAroundFields() {
        IllegalArgumentException e = malformed("openai, gpt-x,1000,100,1,2,,\n");

        assertTrue(e.getMessage().startsWith("bad.csv:3: field 2"), e.getMessage());
    }

    @Test
    void refusesAMissingOrWrongHeaderAndABadDate() {
        assertThrows(IllegalArgumentException.class,
                     () -> ModelCatalog.read(new StringReader("openai,gpt-x,1000,100,1,2,,\n"), "bad.csv"));
        assertThrows(IllegalArgumentException.class,
                     () -> ModelCatalog.read(new StringReader("# as-of: yesterday\n" + CatalogCsv.HEADER + "\n"),
                                             "bad.csv"));
    }

    @Test
    void readsAWellFormedFile() {
        String csv = "# as-of: 2026-01-02\n" + CatalogCsv.HEADER
                     + "\n\nopenai,gpt-x,1000,100,1.5,2,tools|streaming,gpt-x1\n";

        ModelCatalog c = ModelCatalog.read(new StringReader(csv), "ok.csv");

        ModelInfo m = c.find("openai", "gpt-x1").orElseThrow();
        assertEquals(Optional.of(LocalDate.of(2026, 1, 2)), c.asOf());
        assertEquals(EnumSet.of(Capability.TOOLS, Capability.STREAMING), EnumSet.copyOf(m.capabilities()));
        assertFalse(m.supports(Capability.VISION));
    }

    private static IllegalArgumentException malformed(String rows) {
        String csv = "# as-of: 2025-01-01\n" + CatalogCsv.HEADER + "\n" + rows;
        return assertThrows(IllegalArgumentException.class, () -> ModelCatalog.read(new StringReader(csv), "bad.csv"));
    }

    private static String id(String family, String model) {
        return CATALOG.find(family, model).map(ModelInfo::id).orElse("<none>");
    }
}
