package dev.detour.testing;

import dev.detour.filter.RequestExecutor;
import dev.detour.time.NanoClock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A clock that moves only when the test says so, with an executor whose scheduled tasks run when the
 * clock passes their time. Tests never sleep.
 */
public final class FakeClock implements NanoClock {

    private long nanos = 1_000_000_000L;
    private Instant instant = Instant.parse("2026-11-22T10:00:00Z");
    private final List<Task> tasks = new ArrayList<>();

    @Override
    public long nanoTime() {
        return nanos;
    }

    @Override
    public Instant instant() {
        return instant;
    }

    /** Moves time forward by {@code millis}, running tasks that fall due. */
    public void advanceMillis(long millis) {
        advanceNanos(millis * 1_000_000L);
    }

    /** Moves time forward by {@code delta} nanoseconds, running tasks that fall due, in order. */
    public void advanceNanos(long delta) {
        long target = nanos + delta;
        while (true) {
            Task next = null;
            for (Task t : tasks) {
                if (!t.cancelled && t.due - target <= 0 && (next == null || t.due - next.due < 0)) {
                    next = t;
                }
            }
            if (next == null) {
                break;
            }
            tasks.remove(next);
            instant = instant.plusNanos(next.due - nanos);
            nanos = next.due;
            next.command.run();
        }
        instant = instant.plusNanos(target - nanos);
        nanos = target;
    }

    /** Returns how many scheduled tasks have not run. */
    public int pendingTasks() {
        int n = 0;
        for (Task t : tasks) {
            n += t.cancelled ? 0 : 1;
        }
        return n;
    }

    /** Returns an executor that runs tasks inline and schedules them on this clock. */
    public RequestExecutor executor() {
        return new RequestExecutor() {
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
                Task t = new Task(nanos + delayNanos, command);
                tasks.add(t);
                return () -> t.cancelled = true;
            }
        };
    }

    private static final class Task {
        final long due;
        final Runnable command;
        boolean cancelled;

        Task(long due, Runnable command) {
            this.due = due;
            this.command = command;
        }
    }
}
