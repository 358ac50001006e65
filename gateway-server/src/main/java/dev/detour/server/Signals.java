package dev.detour.server;

import org.slf4j.LoggerFactory;

/**
 * Installs handlers for SIGTERM and SIGINT, so that a requested stop drains and exits with 0.
 *
 * <p>Uses {@code sun.misc.Signal} (module {@code jdk.unsupported}), the only JDK API for this; where it
 * is missing, the JVM's shutdown hook still drains, only the exit code differs.
 */
final class Signals {

    private Signals() {
    }

    static void onTermination(Runnable action) {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> action.run());
            } catch (IllegalArgumentException | LinkageError e) {
                LoggerFactory.getLogger(Signals.class).debug("cannot handle SIG{}: {}", name, e.toString());
            }
        }
    }
}
