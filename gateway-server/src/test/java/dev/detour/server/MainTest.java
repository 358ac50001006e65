package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.detour.config.KeyHash;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                        new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void printsHelp() {
        assertEquals(0, run("--help"));

        assertTrue(out.toString(StandardCharsets.UTF_8).contains("detour validate FILE"));
    }

    @Test
    void printsVersion() {
        assertEquals(0, run("--version"));

        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("detour "));
    }

    @Test
    void validatesGoodConfig() throws Exception {
        Path file = dir.resolve("ok.yaml");
        Files.writeString(file, "providers:\n  mock:\n    type: mock\nroutes:\n  - model: m\n    targets:\n"
                                + "      - provider: mock\n");

        assertEquals(0, run("validate", file.toString()));

        assertTrue(out.toString(StandardCharsets.UTF_8).contains("OK (1 providers, 1 routes)"));
    }

    @Test
    void validateNamesFileLineAndFieldOfEachProblem() throws Exception {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, "providers:\n  mock:\n    type: mock\nroutes:\n  - model: m\n    targets:\n"
                                + "      - provider: opneai\n");

        assertEquals(1, run("validate", file.toString()));

        String message = err.toString(StandardCharsets.UTF_8);
        assertTrue(message.contains(file + ":7:"), message);
        assertTrue(message.contains("routes[0].targets[0].provider: unknown provider 'opneai'"), message);
    }

    @Test
    void refusesToStartOnBadConfig() throws Exception {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, "server:\n  prot: 8080\n");

        assertEquals(1, run("--config", file.toString()));

        assertTrue(err.toString(StandardCharsets.UTF_8).contains("server.prot"), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void refusesToStartWithoutConfigFile() {
        assertEquals(1, run("--config", dir.resolve("missing.yaml").toString()));

        assertTrue(err.toString(StandardCharsets.UTF_8).contains("does not exist"));
    }

    @Test
    void generatesAKeyAndItsHash() {
        assertEquals(0, run("keys", "generate"));

        String text = out.toString(StandardCharsets.UTF_8);
        Matcher key = Pattern.compile("(?m)^key:  (dtr_[A-Za-z0-9_-]{32,})$").matcher(text);
        Matcher hash = Pattern.compile("(?m)^hash: (sha256:[0-9a-f]{64})$").matcher(text);
        assertTrue(key.find(), text);
        assertTrue(hash.find(), text);
        assertTrue(KeyHash.parse(hash.group(1)).matches(key.group(1)), text);
        assertTrue(text.contains("clients[].key-hash") && text.contains("auth.admin-keys"), text);
        assertEquals("", err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void generatesADifferentKeyEachTime() {
        run("keys", "generate");
        run("keys", "generate");

        String[] lines = out.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("key:"))
                .toArray(String[]::new);
        assertEquals(2, lines.length);
        assertNotEquals(lines[0], lines[1]);
    }

    @Test
    void rejectsIncompleteKeysCommand() {
        assertEquals(2, run("keys"));
        assertEquals(2, run("keys", "list"));
        assertEquals(2, run("keys", "generate", "extra"));

        assertTrue(err.toString(StandardCharsets.UTF_8).contains("detour keys generate"));
    }

    @Test
    void rejectsUnknownArguments() {
        assertEquals(2, run("--frobnicate"));
        assertEquals(2, run("validate"));
        assertEquals(2, run("--port", "http"));
    }
}
