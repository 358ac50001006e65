package dev.detour.server;

import org.slf4j.LoggerFactory;

/**
 * Installs handlers for SIGTERM and SIGINT, so that a requested stop drains and exits with 0, and for SIGHUP,
 * which reloads the config file instead of ending the process (the JVM's default for SIGHUP).
 *
 * <p>Uses {@code sun.misc.Signal} (module {@code jdk.unsupported}), the only JDK API for this; where it
 * is missing, the JVM's shutdown hook still drains, only the exit code differs.
 */
final class Signals {

    private Signals() {
    }

    /** Runs {@code action} on each SIGTERM and SIGINT; returns what puts the handlers it replaced back. */
    static Runnable onTermination(Runnable action) {
        Runnable term = handle("TERM", action);
        Runnable interrupt = handle("INT", action);
        return () -> {
            term.run();
            interrupt.run();
        };
    }

    /**
     * Runs {@code action} on each SIGHUP, on the JVM's signal thread: it must hand work on, not block. Returns what
     * puts the handler it replaced back (nothing to do on platforms without SIGHUP, or under {@code -Xrs}).
     */
    static Runnable onHangup(Runnable action) {
        return handle("HUP", action);
    }

    private static Runnable handle(String name, Runnable action) {
        try {
            sun.misc.Signal signal = new sun.misc.Signal(name);
            sun.misc.SignalHandler replaced = sun.misc.Signal.handle(signal, s -> action.run());
            return () -> sun.misc.Signal.handle(signal, replaced);
        } catch (IllegalArgumentException | LinkageError e) {
            LoggerFactory.getLogger(Signals.class).debug("cannot handle SIG{}: {}", name, e.toString());
            return () -> { };
        }
    }
}
