package dev.detour.server.reload;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.detour.config.ConfigLoader;
import dev.detour.config.GatewayConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RestartOnlyChangeTest {

    private static final String BASE = """
            server:
              port: 8080
              max-body-size: 1MiB
            providers:
              mock:
                type: mock
            routes:
              - model: m
                targets:
                  - provider: mock
            """;

    private static GatewayConfig config(String yaml) throws Exception {
        return ConfigLoader.parse(yaml, "test.yaml", Map.of());
    }

    @Test
    void listsListenerAndUpstreamPoolSettingsThatChanged() throws Exception {
        GatewayConfig next = config(BASE.replace("port: 8080", "port: 9090\n  transport: nio\n  io-threads: 2")
                                    + "upstream:\n  max-idle-connections: 8\n");

        List<RestartOnlyChange> changes = RestartOnlyChange.between(config(BASE), next);

        assertEquals(List.of(new RestartOnlyChange("server.port", "8080", "9090"),
                             new RestartOnlyChange("server.transport", "auto", "nio"),
                             new RestartOnlyChange("server.io-threads", "0", "2"),
                             new RestartOnlyChange("upstream.max-idle-connections", "64", "8")), changes);
        assertEquals("server.port: 8080 -> 9090", changes.get(0).toString());
    }

    @Test
    void listsAccessLogWriterSettingsThatChanged() throws Exception {
        GatewayConfig next = config(BASE + "logging:\n  access-log-flush-interval: 1s\n"
                                    + "  access-log-queue-size: 1024\n");

        assertEquals(List.of(new RestartOnlyChange("logging.access-log-flush-interval", "PT0.1S", "PT1S"),
                             new RestartOnlyChange("logging.access-log-queue-size", "8192", "1024")),
                     RestartOnlyChange.between(config(BASE), next));
    }

    @Test
    void ignoresSettingsAReloadApplies() throws Exception {
        GatewayConfig next = config(BASE.replace("max-body-size: 1MiB", "max-body-size: 2MiB\n  idle-timeout: 5s")
                                    + "logging:\n  format: json\n  access-log-sink: logback\n  access-log: false\n");

        assertEquals(List.of(), RestartOnlyChange.between(config(BASE), next));
    }
}
