package dev.detour.server;

import dev.detour.auth.ClientKeys;
import dev.detour.config.ConfigException;
import dev.detour.config.ConfigLoader;
import dev.detour.config.GatewayConfig;
import dev.detour.config.KeyHash;
import dev.detour.server.reload.ConfigSource;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code detour} command line: start the gateway, validate a config file, or generate a client key.
 */
public final class Main {

    static final int EXIT_OK = 0;
    static final int EXIT_CONFIG = 1;
    static final int EXIT_USAGE = 2;
    static final String DEFAULT_CONFIG = "config/gateway.yaml";

    private static final String USAGE = String.join("\n",
            "Usage:",
            "  detour [--config FILE] [--port PORT]   start the gateway (default config: " + DEFAULT_CONFIG + ")",
            "  detour validate FILE                   check a config file, print its problems, and exit",
            "  detour keys generate                   print a new client (or admin) key and its hash for the config",
            "  detour --version                       print the version",
            "  detour --help                          print this help",
            "",
            "Environment: ${VAR} and ${VAR:-default} in the config file are read from the environment.",
            "Exit codes: 0 ok, 1 invalid config or start-up failure, 2 bad usage.",
            "Docs: docs/configuration.md");

    private Main() {
    }

    /** Runs the command line. */
    public static void main(String[] args) {
        int code = run(args, System.out, System.err);
        if (code >= 0) {
            System.exit(code);
        }
    }

    /**
     * Runs {@code args}; returns the exit code, or {@code -1} when the gateway was started and keeps running.
     */
    static int run(String[] args, PrintStream out, PrintStream err) {
        String config = DEFAULT_CONFIG;
        Integer port = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "-h":
                case "--help":
                    out.println(USAGE);
                    return EXIT_OK;
                case "-v":
                case "--version":
                    out.println("detour " + Version.current());
                    return EXIT_OK;
                case "validate":
                    if (i + 1 >= args.length) {
                        err.println("detour validate: missing FILE\n\n" + USAGE);
                        return EXIT_USAGE;
                    }
                    return validate(Path.of(args[i + 1]), out, err);
                case "keys":
                    if (i + 1 >= args.length || !"generate".equals(args[i + 1]) || i + 2 < args.length) {
                        err.println("detour keys: expected 'detour keys generate'\n\n" + USAGE);
                        return EXIT_USAGE;
                    }
                    return generateKey(out);
                case "-c":
                case "--config":
                    if (i + 1 >= args.length) {
                        err.println("detour: --config needs a FILE\n\n" + USAGE);
                        return EXIT_USAGE;
                    }
                    config = args[++i];
                    break;
                case "-p":
                case "--port":
                    if (i + 1 >= args.length) {
                        err.println("detour: --port needs a PORT\n\n" + USAGE);
                        return EXIT_USAGE;
                    }
                    try {
                        port = Integer.parseInt(args[++i]);
                    } catch (NumberFormatException e) {
                        err.println("detour: --port: '" + args[i] + "' is not a port number");
                        return EXIT_USAGE;
                    }
                    break;
                default:
                    if (a.startsWith("--config=")) {
                        config = a.substring("--config=".length());
                        break;
                    }
                    err.println("detour: unknown argument '" + a + "'\n\n" + USAGE);
                    return EXIT_USAGE;
            }
        }
        return serve(Path.of(config), port, err);
    }

    private static int generateKey(PrintStream out) {
        // The one place a key is printed: to the operator who asked for it, on stdout, never to a log.
        String key = ClientKeys.newKey();
        out.println("key:  " + key);
        out.println("hash: " + KeyHash.of(key).text());
        out.println();
        out.println("Put the hash in clients[].key-hash (or auth.admin-keys) and give the key to the client.");
        out.println("Detour keeps only the hash: store the key now, it cannot be shown again.");
        return EXIT_OK;
    }

    private static int validate(Path file, PrintStream out, PrintStream err) {
        try {
            GatewayConfig c = ConfigLoader.load(file);
            out.println(file + ": OK (" + c.providers().size() + " providers, " + c.routes().size() + " routes)");
            return EXIT_OK;
        } catch (ConfigException e) {
            err.println(e.getMessage());
            return EXIT_CONFIG;
        }
    }

    private static int serve(Path file, Integer port, PrintStream err) {
        if (!Files.exists(file)) {
            err.println("detour: config file " + file + " does not exist. Pass one with --config FILE "
                        + "(see config/gateway.yaml for an example).");
            return EXIT_CONFIG;
        }
        if (port != null && (port < 0 || port > 65535)) {
            err.println("detour: --port: " + port + " is not a port number (0-65535)");
            return EXIT_USAGE;
        }
        // --port applies to every version of the file, so a reload does not see a port change that is not there.
        ConfigSource source = port == null ? ConfigSource.of(file) : ConfigSource.of(file, c -> c.withPort(port));
        Logger log = LoggerFactory.getLogger(Main.class);
        Shutdown shutdown = new Shutdown(log);
        // Before the gateway starts: once it listens, a supervisor may signal at once (see SignalRelay).
        SignalRelay signals = SignalRelay.install(started -> {
            // Exit 0 after a requested shutdown: the JVM's default for SIGTERM is 143.
            Thread t = new Thread(() -> {
                shutdown.run(started);
                Runtime.getRuntime().halt(EXIT_OK);
            }, "detour-shutdown");
            // Not a daemon, as it would be (signal handlers run on daemon threads): once the event loops have
            // stopped, a JVM left with daemon threads only exits, and would cut this thread off before it writes the
            // usage file and the access log's last lines.
            t.setDaemon(false);
            t.start();
        });
        GatewayServer server;
        try {
            server = GatewayServer.start(source);
        } catch (ConfigException e) {
            signals.startFailed();
            err.println(e.getMessage());
            return EXIT_CONFIG;
        } catch (IllegalStateException e) {
            signals.startFailed();
            err.println("detour: " + e.getMessage());
            return EXIT_CONFIG;
        } catch (InterruptedException e) {
            signals.startFailed();
            Thread.currentThread().interrupt();
            return EXIT_CONFIG;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> shutdown.run(server), "detour-shutdown-hook"));
        // From now on SIGTERM stops it and SIGHUP reloads the config file (like nginx and HAProxy); a signal that came
        // while it started is acted on at once.
        signals.started(server);
        return -1;
    }

    /** Stops the gateway once, whoever asks first: a signal's stop thread or the JVM's shutdown hook. */
    private static final class Shutdown {
        private final Logger log;
        private final AtomicBoolean begun = new AtomicBoolean();
        private final CountDownLatch done = new CountDownLatch(1);

        Shutdown(Logger log) {
            this.log = log;
        }

        /** Stops {@code server}; when a stop is already under way, waits for it to end instead. */
        void run(GatewayServer server) {
            long grace = server.active().config().server().shutdownGracePeriod().toMillis();
            if (!begun.compareAndSet(false, true)) {
                try {
                    // The stop under way drains for up to the grace period, then closes and writes what is left.
                    done.await(grace + TimeUnit.SECONDS.toMillis(10), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return;
            }
            log.info("shutting down: draining requests in flight for up to {} ms", grace);
            server.close();
            done.countDown();
        }
    }
}
