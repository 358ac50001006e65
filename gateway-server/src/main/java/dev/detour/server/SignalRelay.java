package dev.detour.server;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Hands the process's signals to the gateway: SIGTERM and SIGINT stop it, SIGHUP reloads its config file.
 *
 * <p>Installed before the gateway starts: once it listens (and {@code /readyz} says ready) a supervisor may signal
 * at any moment, and a signal the JVM handles itself ends the process, for SIGTERM with 143 and without draining,
 * for SIGHUP at all. A signal that comes while the gateway is starting is acted on as soon as it has started.
 *
 * <p>Thread-safe: signals arrive on the JVM's signal thread, {@link #started} comes from the thread that started
 * the gateway. Each handler only hands work on; it never blocks.
 */
final class SignalRelay {

    private final Consumer<GatewayServer> stop;
    private final AtomicReference<GatewayServer> server = new AtomicReference<>();
    private final AtomicBoolean stopAsked = new AtomicBoolean();
    private final AtomicBoolean reloadAsked = new AtomicBoolean();
    private final AtomicBoolean stopping = new AtomicBoolean();
    /** Puts the handlers replaced back; set once by {@link #install}, run by the thread that starts the gateway. */
    private Runnable uninstall = () -> { };

    private SignalRelay(Consumer<GatewayServer> stop) {
        this.stop = Objects.requireNonNull(stop, "stop");
    }

    /**
     * Installs the handlers; {@code stop} is run once when a stop is asked for and the gateway has started, on the
     * signal thread or in {@link #started}: it must hand the stop to a thread of its own.
     */
    static SignalRelay install(Consumer<GatewayServer> stop) {
        SignalRelay relay = new SignalRelay(stop);
        Runnable termination = Signals.onTermination(relay::stopAsked);
        Runnable hangup = Signals.onHangup(relay::reloadAsked);
        relay.uninstall = () -> {
            termination.run();
            hangup.run();
        };
        return relay;
    }

    /**
     * Says the gateway did not start: puts back the handlers there were before. The process ends anyway; a JVM that
     * goes on (a test) gets its own signal handling back rather than handlers with no gateway to act on.
     */
    void startFailed() {
        uninstall.run();
    }

    /** Says the gateway has started: acts on a signal that came meanwhile, and on every signal from now on. */
    void started(GatewayServer gateway) {
        server.set(Objects.requireNonNull(gateway, "gateway"));
        // Read after publishing the server: a signal handler that found no server set its flag before reading.
        if (stopAsked.get()) {
            stopOnce(gateway);
        } else if (reloadAsked.getAndSet(false)) {
            gateway.reload("signal");
        }
    }

    private void stopAsked() {
        stopAsked.set(true);
        GatewayServer gateway = server.get();
        if (gateway != null) {
            stopOnce(gateway);
        }
    }

    private void reloadAsked() {
        GatewayServer gateway = server.get();
        if (gateway == null) {
            reloadAsked.set(true);
            gateway = server.get();
            // Started meanwhile: whoever clears the flag reloads, so that it happens once.
            if (gateway == null || !reloadAsked.getAndSet(false)) {
                return;
            }
        }
        gateway.reload("signal");
    }

    private void stopOnce(GatewayServer gateway) {
        if (stopping.compareAndSet(false, true)) {
            stop.accept(gateway);
        }
    }
}
