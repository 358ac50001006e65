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
    };

    /** Returns whether the calling thread is this executor's. */
    boolean inExecutor();
}
