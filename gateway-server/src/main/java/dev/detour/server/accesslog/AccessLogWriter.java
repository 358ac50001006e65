package dev.detour.server.accesslog;

import dev.detour.time.NanoClock;
import io.netty.util.internal.PlatformDependent;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes access-log lines to a stream (stdout in production) in batches, on its own thread, so that an event loop
 * only hands over the request's {@link AccessLog.Entry}.
 *
 * <p>Concurrency: event loops {@link #offer} entries to a bounded lock-free multi-producer queue (JCTools, shipped
 * with Netty) and return: no lock, no allocation, no system call. A full queue drops the line and counts it
 * ({@link #dropped()}); nothing waits. The writer thread is the queue's only consumer. It sleeps for the flush
 * interval, or until an offer finds the queue half full; then it formats everything queued into one buffer and
 * writes it out, flushing when the queue has run empty. So a quiet gateway's line shows within one interval, and
 * a busy one pays one {@code write(2)} per batch instead of one per line.
 *
 * <p>Each {@code write} carries whole lines and at most {@link #CHUNK_BYTES} (the size a pipe writes atomically)
 * unless one line is longer: when something else writes to the same stdout pipe (a GC log, a thread dump, a
 * logging setup that sends the application log there too), it lands between lines, never inside one.
 *
 * <p>Lifecycle: one per server. {@link #start()} starts the thread (the first config version that sends lines here
 * does); {@link #close()} writes what is queued and stops it. A writer that was never started writes only when
 * asked: {@link #writeQueued()} (tests, benchmarks) or {@link #close()}. The stream is never closed: it is stdout.
 */
public final class AccessLogWriter implements AutoCloseable {

    /** The most one {@code write} carries, unless a single line is longer: {@code PIPE_BUF} on Linux. */
    static final int CHUNK_BYTES = 4096;

    private static final Logger LOG = LoggerFactory.getLogger(AccessLogWriter.class);
    private static final long WARN_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final long CLOSE_WAIT_MILLIS = 5_000;
    private static final byte[] LINE_SEPARATOR = LineBuffer.ascii(System.lineSeparator());
    private static final int NEW = 0;
    private static final int STARTED = 1;
    private static final int CLOSED = 2;

    private final Queue<AccessLog.Entry> queue;
    private final int capacity;
    /** An offer that finds this many lines queued wakes the writer before its interval is over. */
    private final int wakeMark;
    private final OutputStream out;
    private final long flushNanos;
    private final NanoClock clock;
    private final Parker parker;
    private final Thread thread;
    private final AtomicInteger state = new AtomicInteger(NEW);
    /** Set by the first offer that wakes the writer, cleared by the writer before it drains: one unpark per nap. */
    private final AtomicInteger wakeRequested = new AtomicInteger();
    private final LongAdder dropped = new LongAdder();
    /** Written by the writer thread only; read by metrics. */
    private volatile long failed;
    private volatile boolean closing;

    // Owned by whichever thread drains (the writer thread, or the caller before start): no synchronisation needed.
    private final LineBuffer buffer = new LineBuffer(CHUNK_BYTES * 2);
    private int linesInBuffer;
    private boolean failing;
    private long failedWhenWarned;
    private long droppedWhenWarned;
    private long lastDropWarning;
    private boolean warnedOfDrops;

    AccessLogWriter(OutputStream out, int queueSize, Duration flushInterval, NanoClock clock, Parker parker) {
        this.out = Objects.requireNonNull(out, "out");
        if (queueSize < 2 || queueSize > 1 << 30) {
            throw new IllegalArgumentException("queueSize: " + queueSize + " (expected: from 2 to 2^30)");
        }
        this.flushNanos = Objects.requireNonNull(flushInterval, "flushInterval").toNanos();
        if (flushNanos <= 0) {
            throw new IllegalArgumentException("flushInterval: " + flushInterval + " (expected: > 0)");
        }
        this.clock = Objects.requireNonNull(clock, "clock");
        this.parker = Objects.requireNonNull(parker, "parker");
        this.capacity = Integer.highestOneBit(queueSize - 1) << 1;
        this.queue = PlatformDependent.newFixedMpscQueue(capacity);
        this.wakeMark = capacity / 2;
        this.thread = new Thread(this::run, "detour-access-log");
        // A daemon, so that a server that is never stopped does not keep the JVM alive; stop() closes it.
        thread.setDaemon(true);
    }

    /**
     * Returns a writer to {@code out} holding up to {@code queueSize} lines (rounded up to a power of two) and
     * writing at least every {@code flushInterval}; not started.
     */
    public static AccessLogWriter newWriter(OutputStream out, int queueSize, Duration flushInterval) {
        return new AccessLogWriter(out, queueSize, flushInterval, NanoClock.SYSTEM, LockSupport::parkNanos);
    }

    /**
     * Returns a writer to the process's stdout; not started. It writes to file descriptor 1 itself rather than
     * through {@link System#out}, a {@code PrintStream} that takes a lock per call and hides write errors.
     */
    public static AccessLogWriter newStdoutWriter(int queueSize, Duration flushInterval) {
        return newWriter(new FileOutputStream(FileDescriptor.out), queueSize, flushInterval);
    }

    /** Starts the writer thread, unless it runs or the writer is closed. Thread-safe. */
    public void start() {
        if (state.compareAndSet(NEW, STARTED)) {
            thread.start();
        }
    }

    /**
     * Queues {@code e}'s line and returns {@code true}, or drops and counts it when the queue is full. Called on
     * event loops; never blocks. {@code e} belongs to the writer from now on.
     */
    boolean offer(AccessLog.Entry e) {
        if (!queue.offer(e)) {
            dropped.increment();
            wake();
            return false;
        }
        // size() reads the consumer's index, which changes only while the writer drains: usually a cache hit.
        if (queue.size() >= wakeMark) {
            wake();
        }
        return true;
    }

    /** Returns how many lines were dropped because the queue was full. */
    public long dropped() {
        return dropped.sum();
    }

    /** Returns how many lines were lost because writing them failed (stdout closed, disk full). */
    public long failed() {
        return failed;
    }

    /** Returns how many lines the queue holds at most. */
    public int capacity() {
        return capacity;
    }

    /**
     * Writes every queued line now, on the calling thread, and returns how many there were. Only for a writer that
     * was not started (tests, benchmarks): its thread is the queue's only consumer once it runs.
     *
     * @throws IllegalStateException if the writer was started
     */
    public int writeQueued() {
        if (state.get() == STARTED) {
            throw new IllegalStateException("the writer thread is running: it alone takes lines from the queue");
        }
        return drain();
    }

    /**
     * Writes the lines still queued and stops the writer thread, waiting for it up to five seconds (a stream that
     * blocks, such as a full pipe nobody reads, cannot hold up shutdown longer). Idempotent. Call it once no more
     * lines come: after the event loops have stopped.
     */
    @Override
    public void close() {
        int was = state.getAndSet(CLOSED);
        if (was == CLOSED) {
            return;
        }
        if (was == NEW) {
            drain();
            return;
        }
        closing = true;
        LockSupport.unpark(thread);
        try {
            thread.join(CLOSE_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            LOG.warn("the access log could not be written within {} ms (is stdout blocked?); {} lines still queued "
                     + "are lost", CLOSE_WAIT_MILLIS, queue.size());
        }
    }

    private void wake() {
        if (wakeRequested.get() == 0 && wakeRequested.compareAndSet(0, 1)) {
            LockSupport.unpark(thread);
        }
    }

    private void run() {
        while (!closing) {
            wakeRequested.set(0);
            drain();
            // An offer that found the queue half full while we drained unparked us, but a lock taken while draining
            // (Logback's, when warning) may have used up that permit: the flag still says so, so drain again.
            if (!closing && wakeRequested.get() == 0) {
                parker.park(flushNanos);
            }
        }
        drain();
    }

    /** Formats and writes every queued line, flushing when the queue runs empty; returns how many there were. */
    private int drain() {
        int lines = 0;
        AccessLog.Entry e;
        while ((e = queue.poll()) != null) {
            append(e);
            lines++;
        }
        if (buffer.size() > 0) {
            write(buffer.size(), linesInBuffer);
            buffer.clear();
            linesInBuffer = 0;
            flush();
        }
        warnOfDrops();
        return lines;
    }

    private void append(AccessLog.Entry e) {
        int start = buffer.size();
        try {
            if (e.json) {
                LineFormat.json(e, buffer);
            } else {
                LineFormat.text(e, buffer);
            }
            buffer.put(LINE_SEPARATOR);
        } catch (RuntimeException ex) {
            // A bug in formatting must not stop the writer, nor leave half a line behind.
            buffer.truncate(start);
            failed++;
            LOG.error("request {}: its access-log line could not be formatted", e.requestId, ex);
            return;
        }
        linesInBuffer++;
        if (buffer.size() > CHUNK_BYTES && start > 0) {
            // The line just added overflows the chunk: write the lines before it, keep it for the next chunk.
            write(start, linesInBuffer - 1);
            buffer.compact(start);
            linesInBuffer = 1;
        }
    }

    private void write(int bytes, int lines) {
        try {
            buffer.writeTo(out, 0, bytes);
            if (failing) {
                failing = false;
                LOG.info("the access log is written again ({} lines were lost)", failed - failedWhenWarned);
            }
        } catch (IOException | RuntimeException e) {
            failed += lines;
            if (!failing) {
                failing = true;
                failedWhenWarned = failed - lines;
                LOG.warn("cannot write the access log ({}); its lines are lost until writing works again",
                         e.toString());
            }
        }
    }

    private void flush() {
        try {
            out.flush();
        } catch (IOException | RuntimeException e) {
            if (!failing) {
                failing = true;
                failedWhenWarned = failed;
                LOG.warn("cannot flush the access log ({})", e.toString());
            }
        }
    }

    /** Warns of lines dropped since the last warning, at most once a minute, for setups without metrics. */
    private void warnOfDrops() {
        long total = dropped.sum();
        if (total == droppedWhenWarned) {
            return;
        }
        long now = clock.nanoTime();
        if (warnedOfDrops && now - lastDropWarning < WARN_EVERY_NANOS) {
            return;
        }
        LOG.warn("access log: {} lines dropped because {} were already waiting to be written (stdout is slower than "
                 + "the requests; see detour_access_log_dropped_total); not logged again for a minute",
                 total - droppedWhenWarned, capacity);
        warnedOfDrops = true;
        lastDropWarning = now;
        droppedWhenWarned = total;
    }

    /** How the writer thread waits between batches; tests replace it to step the writer without sleeping. */
    @FunctionalInterface
    interface Parker {
        /** Waits up to {@code nanos}, or less when {@link LockSupport#unpark} wakes the thread. */
        void park(long nanos);
    }
}
