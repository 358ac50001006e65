package dev.detour.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real process: starts from a config file, serves, reloads the file on SIGHUP, and on SIGTERM drains and
 * exits with 0.
 */
class ProcessSignalIT {

    private static final Pattern LISTENING = Pattern.compile("listening on \\S*:(\\d+) ");

    @TempDir
    Path dir;

    @Test
    void exitsZeroOnSigtermAfterServing() throws Exception {
        Process process = startMain(dir, "server:\n  port: 0\n  shutdown-grace-period: 5s\nproviders:\n"
                                         + "  mock:\n    type: mock\nroutes:\n  - model: m\n    targets:\n"
                                         + "      - provider: mock\n");
        try {
            int port = portListenedOn(process);
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> r = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                               .header("content-type", "application/json")
                               .POST(HttpRequest.BodyPublishers.ofString(
                                       "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"))
                               .timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());

            process.destroy(); // SIGTERM on Unix

            assertTrue(process.waitFor(20, TimeUnit.SECONDS), "the process exits after SIGTERM");
            assertEquals(0, process.exitValue());
        } finally {
            process.destroyForcibly();
        }
    }

    @Test
    void writesTheAccessLogToStdoutAndItsLastLinesOnSigterm() throws Exception {
        Path config = dir.resolve("gateway.yaml");
        // Ten seconds between flushes: lines show this soon only because the shutdown writes them.
        Files.writeString(config, "server:\n  port: 0\nlogging:\n  access-log-flush-interval: 10s\n"
                                  + "providers:\n  mock:\n    type: mock\nroutes:\n  - model: m\n    targets:\n"
                                  + "      - provider: mock\n");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                                                            Main.class.getName(), "--config", config.toString()))
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        // logback-test.xml (on this class path) keeps the access log's logger at WARN unless told otherwise.
        builder.environment().put("DETOUR_TEST_ACCESS_LOG", "INFO");
        Process process = builder.start();
        try {
            // With logback-test.xml the application log goes to stdout too: the access lines share it.
            BufferedReader stdout = new BufferedReader(new InputStreamReader(process.getInputStream(),
                                                                             StandardCharsets.UTF_8));
            int port = port(waitForLine(stdout, "listening on"));
            HttpClient http = HttpClient.newHttpClient();
            List<String> ids = new ArrayList<>();
            // Enough lines that writing them at the stop takes a moment: a stop cut short by the JVM's exit loses some.
            int requests = 100;
            for (int i = 0; i < requests; i++) {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                                   .header("content-type", "application/json")
                                   .POST(HttpRequest.BodyPublishers.ofString(
                                           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"))
                                   .timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), r.body());
                ids.add(r.headers().firstValue("x-request-id").orElseThrow());
            }

            // SIGTERM on Unix; unlike Process.destroy() it leaves the process's stdout open for reading to the end.
            process.toHandle().destroy();

            List<String> access = new ArrayList<>();
            String line;
            while ((line = stdout.readLine()) != null) {
                if (line.startsWith("request_id=")) {
                    access.add(line);
                }
            }
            assertTrue(process.waitFor(20, TimeUnit.SECONDS), "the process exits after SIGTERM");
            assertEquals(requests, access.size(), "one line per request: " + access);
            for (int i = 0; i < requests; i++) {
                assertTrue(access.get(i).startsWith("request_id=" + ids.get(i) + " client=anonymous method=POST "),
                           access.get(i));
                assertTrue(access.get(i).endsWith(" outcome=ok"), access.get(i));
            }
        } finally {
            process.destroyForcibly();
        }
    }

    @Test
    void exitsZeroOnSigtermSentTheMomentItListens() throws Exception {
        // A supervisor may stop the gateway as soon as it is up: the handlers must be in place once it listens (and
        // /readyz says ready), or the JVM's default for SIGTERM ends it with 143 without draining.
        Process process = startMain(dir, "server:\n  port: 0\nproviders:\n  mock:\n    type: mock\nroutes:\n"
                                         + "  - model: m\n    targets:\n      - provider: mock\n");
        try {
            portListenedOn(process);

            process.destroy(); // SIGTERM on Unix

            assertTrue(process.waitFor(20, TimeUnit.SECONDS), "the process exits after SIGTERM");
            assertEquals(0, process.exitValue(), "a requested stop, not the JVM's default for SIGTERM");
        } finally {
            process.destroyForcibly();
        }
    }

    @Test
    void keepsServingAfterASighupSentTheMomentItListens() throws Exception {
        assumeTrue(File.separatorChar == '/', "SIGHUP needs a Unix");
        // Unhandled, SIGHUP ends a JVM: the handler must be in place once the gateway listens.
        Process process = startMain(dir, "server:\n  port: 0\nproviders:\n  mock:\n    type: mock\nroutes:\n"
                                         + "  - model: m\n    targets:\n      - provider: mock\n");
        try {
            int port = portListenedOn(process);

            Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).inheritIO().start();

            assertTrue(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0, "kill -HUP was sent");
            HttpResponse<String> health = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz"))
                               .timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), health.body());
            process.destroy();
            assertTrue(process.waitFor(20, TimeUnit.SECONDS), "the process exits after SIGTERM");
            assertEquals(0, process.exitValue(), "stopped by the SIGTERM, not by the SIGHUP before it");
        } finally {
            process.destroyForcibly();
        }
    }

    @Test
    void reloadsTheConfigFileOnSighup() throws Exception {
        assumeTrue(File.separatorChar == '/', "SIGHUP needs a Unix");
        assumeFalse(hangupIgnored(), "SIGHUP is ignored here (nohup?), so also in the gateway this test starts");
        Path config = dir.resolve("gateway.yaml");
        // The watcher is off, so only the signal can make the process read the file again.
        String before = "server:\n  port: 0\n  watch-config: false\nproviders:\n  mock:\n    type: mock\n"
                        + "routes:\n  - model: m\n    targets:\n      - provider: mock\n";
        Process process = startMain(dir, before);
        try {
            int port = portListenedOn(process);
            HttpClient http = HttpClient.newHttpClient();
            URI models = URI.create("http://127.0.0.1:" + port + "/v1/models");
            Files.writeString(config, before + "  - model: added-by-sighup\n    targets:\n      - provider: mock\n");

            Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).inheritIO().start();

            assertTrue(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0, "kill -HUP was sent");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            String body = "";
            while (!body.contains("added-by-sighup") && System.nanoTime() < deadline) {
                Thread.sleep(50);
                body = http.send(HttpRequest.newBuilder(models).timeout(Duration.ofSeconds(5)).build(),
                                 HttpResponse.BodyHandlers.ofString()).body();
            }
            assertTrue(body.contains("added-by-sighup"), "the new route is served after SIGHUP: " + body);
            assertTrue(process.isAlive(), "SIGHUP does not end the process");
            process.destroy();
            assertTrue(process.waitFor(20, TimeUnit.SECONDS), "the process exits after SIGTERM");
            assertEquals(0, process.exitValue());
        } finally {
            process.destroyForcibly();
        }
    }

    /**
     * Returns whether this process ignores SIGHUP, as under {@code nohup}: a child inherits that, and a JVM cannot
     * handle a signal it was started ignoring. Read from Linux's {@code /proc}; elsewhere assumed not.
     */
    private static boolean hangupIgnored() throws Exception {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) {
            return false;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("SigIgn:")) {
                return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & 1) != 0; // bit 0: signal 1, SIGHUP
            }
        }
        return false;
    }

    /** Starts {@code Main} in a new JVM on the config {@code yaml}, written to {@code dir}; its output is merged. */
    private static Process startMain(Path dir, String yaml) throws Exception {
        Path config = dir.resolve("gateway.yaml");
        Files.writeString(config, yaml);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                                          "--config", config.toString()))
                .redirectErrorStream(true)
                .start();
    }

    /**
     * Waits until the process says it listens and returns the port it chose (the config asks for port 0: a port
     * merely found free beforehand could be taken by another process before the gateway binds it). Its output is
     * read on from then on, so that it never blocks writing.
     */
    private static int portListenedOn(Process process) throws Exception {
        BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(),
                                                                         StandardCharsets.UTF_8));
        int port = port(waitForLine(reader, "listening on"));
        Thread drain = new Thread(() -> reader.lines().forEach(l -> { }), "drain-output");
        drain.setDaemon(true);
        drain.start();
        return port;
    }

    /** Returns the port of a {@code listening on /HOST:PORT} line. */
    private static int port(String line) {
        Matcher m = LISTENING.matcher(line);
        assertTrue(m.find(), line);
        return Integer.parseInt(m.group(1));
    }

    /** Reads {@code reader} up to the first line that contains {@code marker}, and returns that line. */
    private static String waitForLine(BufferedReader reader, String marker) throws Exception {
        // Generous: a JVM starting on a busy machine; a process that dies ends the stream at once.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String line;
        while (System.nanoTime() < deadline && (line = reader.readLine()) != null) {
            if (line.contains(marker)) {
                return line;
            }
        }
        throw new AssertionError("the gateway did not start; see its output above" + File.separator);
    }
}
