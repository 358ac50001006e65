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

    static void onTermination(Runnable action) {
        handle("TERM", action);
        handle("INT", action);
    }

    /**
     * Runs {@code action} on each SIGHUP, on the JVM's signal thread: it must hand work on, not block. Returns
     * whether the handler is installed (not on platforms without SIGHUP, or under {@code -Xrs}).
     */
    static boolean onHangup(Runnable action) {
        return handle("HUP", action);
    }

    private static boolean handle(String name, Runnable action) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> action.run());
            return true;
        } catch (IllegalArgumentException | LinkageError e) {
            LoggerFactory.getLogger(Signals.class).debug("cannot handle SIG{}: {}", name, e.toString());
            return false;
        }
    }
}
