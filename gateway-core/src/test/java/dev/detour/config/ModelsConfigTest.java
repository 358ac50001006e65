package dev.detour.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.detour.catalog.Capability;
import dev.detour.catalog.ModelCatalog;
import dev.detour.catalog.ModelInfo;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The top-level {@code models} list: catalog rows from YAML, completed from the built-in catalog. */
class ModelsConfigTest {

    private static final String SOURCE = "gateway.yaml";
    private static final String REST = """
            providers:
              local: {type: mock}
            routes:
              - model: m
                targets: [{provider: local}]
            """;

    @Test
    void leavesModelsEmptyWhenTheSectionIsAbsent() throws ConfigException {
        assertEquals(List.of(), ConfigLoader.parse(REST, SOURCE, Map.of()).models());
    }

    @Test
    void bindsAModelTheCatalogDoesNotKnowWithDefaults() throws ConfigException {
        List<ModelInfo> models = models("""
                models:
                  - family: vllm
                    id: Qwen/Qwen2.5-7B-Instruct
                    context-window: 32768
                """);

        assertEquals(List.of(new ModelInfo("vllm", "Qwen/Qwen2.5-7B-Instruct", 32768, 32768, BigDecimal.ZERO,
                                           BigDecimal.ZERO, Set.of(), List.of())), models);
    }

    @Test
    void bindsEveryField() throws ConfigException {
        List<ModelInfo> models = models("""
                models:
                  - family: mock
                    id: tiny
                    context-window: 1000
                    max-output-tokens: 200
                    input-price: 0.075
                    output-price: "0.30"
                    capabilities: [tools, streaming]
                """);

        assertEquals(List.of(new ModelInfo("mock", "tiny", 1000, 200, new BigDecimal("0.075"), new BigDecimal("0.30"),
                                           EnumSet.of(Capability.TOOLS, Capability.STREAMING), List.of())), models);
    }

    @Test
    void takesOmittedFieldsFromTheBuiltinRow() throws ConfigException {
        ModelInfo builtin = ModelCatalog.builtin().find("openai", "gpt-4o").orElseThrow();

        ModelInfo model = models("""
                models:
                  - {family: openai, id: gpt-4o, input-price: 1.25}
                """).get(0);

        assertEquals(new BigDecimal("1.25"), model.inputPricePerMillion());
        assertEquals(builtin.outputPricePerMillion(), model.outputPricePerMillion());
        assertEquals(builtin.contextWindow(), model.contextWindow());
        assertEquals(builtin.maxOutputTokens(), model.maxOutputTokens());
        assertEquals(builtin.capabilities(), model.capabilities());
    }

    @Test
    void keepsAnInheritedOutputCapWithinASmallerWindow() throws ConfigException {
        ModelInfo model = models("""
                models:
                  - {family: anthropic, id: claude-sonnet-4-5, context-window: 8000}
                """).get(0);

        assertEquals(8000, model.contextWindow());
        assertEquals(8000, model.maxOutputTokens(), "the built-in 64000 cannot exceed the window");
    }

    @Test
    void writesAzureRowsAsOpenAiRowsBecauseAzureReadsThem() throws ConfigException {
        ModelInfo model = models("""
                models:
                  - {family: azure, id: gpt-4o, context-window: 64000}
                """).get(0);

        assertEquals("openai", model.family());
        ModelCatalog catalog = ModelCatalog.builtin().withOverrides(List.of(model));
        assertEquals(64000, catalog.find("azure", "gpt-4o").orElseThrow().contextWindow());
    }

    @Test
    void reportsEveryProblemOfTheSection() {
        String yaml = """
                models:
                  - {family: opneai, id: x, context-window: 10}
                  - {family: ollama, id: "llama3.2:3b"}
                  - {family: mock, id: a, context-window: 100, max-output-tokens: 200}
                  - {family: mock, id: b, context-window: 0}
                  - {family: mock, id: c, context-window: 10, input-price: -1, output-price: free}
                  - {family: mock, id: d, context-window: 10, capabilities: [tools, telepathy]}
                  - {family: mock, id: e, context-window: 10, window: 10}
                  - {family: mock, id: A, context-window: 10}
                  - {id: f, context-window: 10}
                """;

        assertEquals(List.of(
                "gateway.yaml:2:14 models[0].family: unknown family 'opneai' (expected a provider type: openai, mock, "
                + "anthropic, gemini, azure, bedrock, mistral, groq, together, fireworks, deepseek, openrouter, xai, "
                + "perplexity, cerebras, ollama, vllm, lmstudio)",
                "gateway.yaml:3:5 models[1].context-window: required field is missing (model 'ollama/llama3.2:3b' is "
                + "not in the built-in catalog, so its context window must be given)",
                "gateway.yaml:4:67 models[2].max-output-tokens: expected at most the context window (100), got 200",
                "gateway.yaml:5:43 models[3].context-window: expected an integer >= 1, got '0'",
                "gateway.yaml:6:60 models[4].input-price: expected a price in USD per million tokens, a decimal >= 0 "
                + "such as 2.50, got '-1'",
                "gateway.yaml:6:78 models[4].output-price: expected a price in USD per million tokens, a decimal >= 0 "
                + "such as 2.50, got 'free'",
                "gateway.yaml:7:69 models[5].capabilities[1]: unknown capability 'telepathy' (expected tools, vision, "
                + "embeddings, streaming or reasoning)",
                "gateway.yaml:8:47 models[6].window: unknown field (known: family, id, context-window, "
                + "max-output-tokens, input-price, output-price, capabilities)",
                "gateway.yaml:9:24 models[7].id: duplicate model 'mock/A' (first defined at line 4)",
                "gateway.yaml:10:5 models[8].family: required field is missing"),
                problems(yaml));
    }

    @Test
    void refusesAModelsSectionThatIsNotAList() {
        assertEquals(List.of("gateway.yaml:1:9 models: expected a list, got a mapping"),
                     problems("models: {family: mock}\n"));
    }

    private static List<ModelInfo> models(String section) throws ConfigException {
        return ConfigLoader.parse(section + REST, SOURCE, Map.of()).models();
    }

    private static List<String> problems(String section) {
        ConfigException e = assertThrows(ConfigException.class,
                                         () -> ConfigLoader.parse(section + REST, SOURCE, Map.of()));
        List<String> lines = new ArrayList<>();
        for (ConfigProblem p : e.problems()) {
            lines.add(p.toString());
        }
        return lines;
    }
}
