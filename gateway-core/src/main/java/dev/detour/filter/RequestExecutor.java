package dev.detour.filter;

import java.util.concurrent.Executor;

/**
 * The executor a request belongs to: in the server, the event loop of the client's connection.
 *
 * <p>The filter chain resumes on it when a filter's stage completes on another thread, so that
 * per-request state is only ever touched by one thread at a time.
 */
public interface RequestExecutor extends Executor {

    /** An executor that runs everything inline, for tests. */
    RequestExecutor DIRECT = new RequestExecutor() {
        @Override
        public boolean inExecutor() {
            return true;
        }

        @Override
        public void execute(Runnable command) {
            command.run();
        }

        @Override
        public Cancellable schedule(Runnable command, long delayNanos) {
            throw new UnsupportedOperationException("DIRECT cannot schedule; use a test executor with a fake clock");
        }
    };

    /** Returns whether the calling thread is this executor's. */
    boolean inExecutor();

    /** Runs {@code command} on this executor after {@code delayNanos}, without blocking anyone meanwhile. */
    Cancellable schedule(Runnable command, long delayNanos);

    /** A scheduled task that can be called off. */
    @FunctionalInterface
    interface Cancellable {
        /** Calls the task off if it has not run; idempotent. */
        void cancel();
    }
}
