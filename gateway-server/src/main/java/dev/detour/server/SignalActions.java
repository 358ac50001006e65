package dev.detour.server;

/**
 * What the process does on a stop signal (SIGTERM, SIGINT) and on SIGHUP, with the handlers installed before the
 * server starts: a signal that arrives while it starts would otherwise get the JVM's default, and the default for
 * SIGHUP ends the process. A signal that arrives before {@link #attach} is remembered and acted on once the server
 * runs (a stop wins over a reload). Thread-safe; the handlers run on the JVM's signal thread and never block on
 * more than this object's monitor.
 */
final class SignalActions {

    private Runnable stop;
    private Runnable reload;
    private boolean stopPending;
    private boolean reloadPending;

    /** Installs the handlers and returns the actions they call; nothing happens until {@link #attach}. */
    static SignalActions install() {
        SignalActions actions = new SignalActions();
        Signals.onTermination(actions::stop);
        Signals.onHangup(actions::reload);
        return actions;
    }

    /** Sets what a stop and a reload do from now on, and runs the one a signal asked for before. */
    void attach(Runnable stopAction, Runnable reloadAction) {
        Runnable pending;
        synchronized (this) {
            stop = stopAction;
            reload = reloadAction;
            pending = stopPending ? stop : reloadPending ? reload : null;
            stopPending = false;
            reloadPending = false;
        }
        if (pending != null) {
            pending.run();
        }
    }

    void stop() {
        Runnable action;
        synchronized (this) {
            action = stop;
            stopPending = action == null;
        }
        if (action != null) {
            action.run();
        }
    }

    void reload() {
        Runnable action;
        synchronized (this) {
            action = reload;
            reloadPending = action == null;
        }
        if (action != null) {
            action.run();
        }
    }
}
