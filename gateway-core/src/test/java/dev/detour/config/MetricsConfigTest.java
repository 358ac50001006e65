package dev.detour.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The top-level {@code metrics} section: where and to whom {@code /metrics} is served. */
class MetricsConfigTest {

    private static final String SOURCE = "gateway.yaml";
    private static final String REST = """
            providers:
              local: {type: mock}
            routes:
              - model: m
                targets: [{provider: local}]
            """;
    private static final String ADMIN = """
            auth:
              admin-keys: ["sha256:0000000000000000000000000000000000000000000000000000000000000000"]
            """;

    @Test
    void servesOnTheMainListenerByDefault() throws ConfigException {
        MetricsConfig metrics = ConfigLoader.parse(REST, SOURCE, Map.of()).metrics();

        assertEquals(MetricsConfig.ofDefault(), metrics);
        assertTrue(metrics.enabled());
        assertEquals("/metrics", metrics.path());
        assertFalse(metrics.separateListener());
        assertFalse(metrics.requireAdminKey());
    }

    @Test
    void bindsEveryField() throws ConfigException {
        MetricsConfig metrics = metrics(ADMIN + """
                metrics:
                  enabled: true
                  path: /internal/prometheus
                  port: 9464
                  host: 10.0.0.5
                  require-admin-key: true
                """);

        assertEquals(new MetricsConfig(true, "/internal/prometheus", 9464, Optional.of("10.0.0.5"), true), metrics);
        assertTrue(metrics.separateListener());
    }

    @Test
    void disabledMetricsHaveNoListener() throws ConfigException {
        MetricsConfig metrics = metrics("""
                metrics:
                  enabled: false
                  port: 9464
                """);

        assertFalse(metrics.separateListener());
    }

    @Test
    void refusesPathsOtherEndpointsUse() {
        for (String taken : List.of("/v1/metrics", "/healthz", "/readyz", "/admin/metrics", "/v1")) {
            List<String> problems = problems("metrics: {path: " + taken + "}\n");

            assertEquals(1, problems.size(), problems.toString());
            assertTrue(problems.get(0).startsWith("gateway.yaml:1:17 metrics.path: '" + taken + "' is served by "
                                                  + "Detour already"), problems.get(0));
        }
    }

    @Test
    void refusesMalformedPaths() {
        for (String bad : List.of("metrics", "/", "/metrics/", "'/a b'", "'/m?x=1'")) {
            List<String> problems = problems("metrics: {path: " + bad + "}\n");

            assertEquals(1, problems.size(), bad + ": " + problems);
            assertTrue(problems.get(0).contains("metrics.path: expected an absolute path without query, spaces or "
                                                + "trailing slash"), problems.get(0));
        }
    }

    @Test
    void refusesTheMainListenersPort() {
        List<String> problems = problems("""
                server: {port: 8080}
                metrics: {port: 8080}
                """);

        assertEquals(List.of("gateway.yaml:2:17 metrics.port: the main listener's port (server.port); leave "
                             + "metrics.port at 0 to serve metrics on the main listener, or pick another port"),
                     problems);
    }

    @Test
    void refusesAHostWithoutASeparatePort() {
        List<String> problems = problems("metrics: {host: 0.0.0.0}\n");

        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("metrics.host: only used by a separate metrics listener"),
                   problems.get(0));
    }

    @Test
    void refusesProtectionWithoutAdminKeys() {
        List<String> problems = problems("metrics: {require-admin-key: true}\n");

        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("metrics.require-admin-key: needs at least one admin key in "
                                            + "auth.admin-keys"), problems.get(0));
    }

    @Test
    void reportsUnknownFieldsAndWrongTypes() {
        List<String> problems = problems("""
                metrics:
                  enable: true
                  port: http
                """);

        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("metrics.enable: unknown field"), problems.get(0));
        assertTrue(problems.get(1).contains("metrics.port:"), problems.get(1));
    }

    private static MetricsConfig metrics(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml + REST, SOURCE, Map.of()).metrics();
    }

    private static List<String> problems(String yaml) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml + REST, SOURCE,
                                                                                         Map.of()));
        return e.problems().stream().map(ConfigProblem::toString).toList();
    }
}
