package dev.detour.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;

class ConfigExceptionTest {

    @Test
    void listsEveryProblemUnderCountedHeader() {
        ConfigException e = new ConfigException(List.of(
                new ConfigProblem("g.yaml", 2, 9, "server.port", "expected an integer from 0 to 65535, got 'abc'"),
                new ConfigProblem("g.yaml", 5, 3, "routes", "expected at least one route")));

        assertEquals("invalid configuration (2 problems):\n"
                     + "  g.yaml:2:9 server.port: expected an integer from 0 to 65535, got 'abc'\n"
                     + "  g.yaml:5:3 routes: expected at least one route",
                     e.getMessage());
        assertEquals(2, e.problems().size());
    }

    @Test
    void saysProblemInSingular() {
        ConfigException e = new ConfigException(List.of(new ConfigProblem("g.yaml", 0, 0, "", "file not found")));

        assertEquals("invalid configuration (1 problem):\n  g.yaml: file not found", e.getMessage());
    }

    @Test
    void refusesEmptyProblemList() {
        assertThrows(IllegalArgumentException.class, () -> new ConfigException(List.of()));
    }

    @Test
    void printsProblemLikeCompilerDiagnostic() {
        assertEquals("config/gateway.yaml:14:7 routes[0].targets[1].provider: unknown provider 'opneai' "
                     + "(known: openai, mock)",
                     new ConfigProblem("config/gateway.yaml", 14, 7, "routes[0].targets[1].provider",
                                       "unknown provider 'opneai' (known: openai, mock)").toString());
        assertEquals("g.yaml:1:1: expected a mapping, got a list",
                     new ConfigProblem("g.yaml", 1, 1, "", "expected a mapping, got a list").toString());
    }
}
