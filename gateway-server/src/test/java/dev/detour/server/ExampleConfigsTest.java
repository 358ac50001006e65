package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.detour.config.ConfigLoader;
import dev.detour.config.GatewayConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The configs shipped in the repository stay valid as the schema changes. */
class ExampleConfigsTest {

    private static final Map<String, String> ENV = Map.of(
            "OPENAI_API_KEY", "sk-example-1", "OPENAI_API_KEY_2", "sk-example-2", "GROQ_API_KEY", "gsk-example",
            "ANTHROPIC_API_KEY", "sk-ant-example", "GEMINI_API_KEY", "gemini-example",
            "AZURE_OPENAI_API_KEY", "azure-example", "AWS_ACCESS_KEY_ID", "AKIDEXAMPLE",
            "AWS_SECRET_ACCESS_KEY", "secret-example");

    @Test
    void shippedConfigsAreValid() throws Exception {
        for (String name : new String[] {"config/gateway.yaml", "config/gateway.example.yaml", "docker/gateway.yaml"}) {
            Path file = Path.of("..").resolve(name);
            GatewayConfig config = ConfigLoader.parse(Files.readString(file), name, ENV);

            assertFalse(config.routes().isEmpty(), name);
        }
    }
}
