package dev.detour.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.catalog.ModelCatalog;
import dev.detour.config.ConfigLoader;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The model catalog of a config version: the built-in one with the config's {@code models}, resolved per target. */
class RouteTableCatalogTest {

    private static final String PROVIDERS = """
            providers:
              openai: {type: openai, base-url: https://api.openai.com/v1, keys: [{id: k1, value: sk-1}]}
              azure: {type: azure, base-url: https://contoso.openai.azure.com/openai, keys: [{id: a1, value: a-1}]}
              claude: {type: anthropic, keys: [{id: c1, value: sk-ant-1}]}
              local: {type: vllm}
            routes:
              - model: gpt
                targets:
                  - {provider: openai, model: gpt-4o-2024-08-06}
                  - {provider: azure, model: gpt-4o}
                  - {provider: azure, model: prod-deployment}
                context-fallback: {provider: claude, model: claude-sonnet-4-5}
              - model: qwen
                targets: [{provider: local, model: Qwen/Qwen2.5-7B-Instruct}]
            """;

    @Test
    void usesTheBuiltinCatalogWhenTheConfigHasNoModels() throws Exception {
        RouteTable table = RouteTable.of(ConfigLoader.parse(PROVIDERS, "test.yaml", Map.of()), 0);

        assertSame(ModelCatalog.builtin(), table.catalog());
        Route gpt = table.route("gpt");
        assertEquals("gpt-4o", gpt.targets().get(0).modelInfo().orElseThrow().id(), "a dated snapshot finds its row");
        assertEquals("gpt-4o", gpt.targets().get(1).modelInfo().orElseThrow().id(), "azure reads the openai rows");
        assertEquals(Optional.empty(), gpt.targets().get(2).modelInfo(), "a deployment name is not a model id");
        assertEquals(200_000, gpt.contextFallback().modelInfo().orElseThrow().contextWindow());
        assertEquals(Optional.empty(), table.route("qwen").targets().get(0).modelInfo());
    }

    @Test
    void appliesTheConfigsModelsToEveryTarget() throws Exception {
        String yaml = PROVIDERS + """
                models:
                  - {family: vllm, id: qwen/qwen2.5-7b-instruct, context-window: 32768}
                  - {family: azure, id: prod-deployment, context-window: 64000, max-output-tokens: 4096}
                  - {family: openai, id: gpt-4o, input-price: 1.00}
                """;

        RouteTable table = RouteTable.of(ConfigLoader.parse(yaml, "test.yaml", Map.of()), 0);

        assertEquals(32768, table.route("qwen").targets().get(0).modelInfo().orElseThrow().contextWindow(),
                     "ids match ignoring case");
        Route gpt = table.route("gpt");
        assertEquals(64000, gpt.targets().get(2).modelInfo().orElseThrow().contextWindow());
        assertEquals("1.00", gpt.targets().get(0).modelInfo().orElseThrow().inputPricePerMillion().toPlainString(),
                     "the snapshot reads the corrected row");
        assertEquals("1.00", gpt.targets().get(1).modelInfo().orElseThrow().inputPricePerMillion().toPlainString());
        assertTrue(table.catalog().models().size() > ModelCatalog.builtin().models().size());
        assertEquals("2.50", ModelCatalog.builtin().find("openai", "gpt-4o").orElseThrow().inputPricePerMillion()
                .toPlainString(), "the built-in catalog is unchanged");
    }
}
