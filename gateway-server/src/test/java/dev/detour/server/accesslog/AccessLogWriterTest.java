package dev.detour.server.accesslog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.detour.server.testing.AccessLines;
import dev.detour.time.NanoClock;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class AccessLogWriterTest {

    private static final Duration INTERVAL = Duration.ofMillis(100);
    private static final AccessLogWriter.Parker REAL_PARKER = LockSupport::parkNanos;

    private final AtomicLong nanos = new AtomicLong();
    private final NanoClock clock = new NanoClock() {
        @Override
        public long nanoTime() {
            return nanos.get();
        }

        @Override
        public Instant instant() {
            return Instant.EPOCH;
        }
    };

    private static AccessLog.Entry entry(int n) {
        AccessLog.Entry e = new AccessLog.Entry();
        e.requestId = "req_" + n;
        e.method = "POST";
        e.path = "/v1/chat/completions";
        e.model = "gpt-4o-mini";
        e.status = 200;
        e.latencyNanos = 1_500_000;
        return e;
    }

    private static String line(AccessLog.Entry e) {
        return new String(e.json ? LineFormatTest.json(e) : LineFormatTest.text(e), StandardCharsets.UTF_8);
    }

    private static List<String> lines(int from, int to) {
        List<String> lines = new ArrayList<>();
        for (int n = from; n < to; n++) {
            lines.add(line(entry(n)));
        }
        return lines;
    }

    @Test
    void writesEverythingQueuedWithOneWriteWhenItFitsInAChunk() {
        AccessLines out = new AccessLines();
        AccessLogWriter writer = new AccessLogWriter(out, 64, INTERVAL, clock, REAL_PARKER);
        for (int n = 0; n < 10; n++) {
            assertTrue(writer.offer(entry(n)));
        }

        assertEquals(0, out.writes(), "nothing written before the writer drains");
        assertEquals(10, writer.writeQueued());

        assertEquals(lines(0, 10), out.lines());
        assertEquals(1, out.writes(), "one write for the batch");
    }

    @Test
    void writesLargeBatchesInChunksOfWholeLinesThatAPipeWritesAtomically() {
        ChunkRecorder out = new ChunkRecorder();
        AccessLogWriter writer = new AccessLogWriter(out, 1024, INTERVAL, clock, REAL_PARKER);
        for (int n = 0; n < 500; n++) {
            writer.offer(entry(n));
        }

        writer.writeQueued();

        int total = 0;
        for (byte[] chunk : out.chunks) {
            assertTrue(chunk.length <= AccessLogWriter.CHUNK_BYTES, "chunk of " + chunk.length + " bytes");
            assertEquals('\n', chunk[chunk.length - 1], "a chunk ends with a whole line");
            total += chunk.length;
        }
        int lineBytes = line(entry(100)).length() + 1;
        assertTrue(out.chunks.size() <= total / (AccessLogWriter.CHUNK_BYTES - lineBytes) + 1,
                   out.chunks.size() + " writes for " + total + " bytes: chunks are filled");
        assertEquals(String.join("\n", lines(0, 500)) + "\n", out.text(), "every line, in order");
    }

    @Test
    void writesEachLineInTheFormatOfTheConfigVersionItRanOn() {
        AccessLines out = new AccessLines();
        AccessLogWriter writer = new AccessLogWriter(out, 64, INTERVAL, clock, REAL_PARKER);
        AccessLog.Entry text = entry(1);
        AccessLog.Entry json = entry(2);
        json.json = true;

        writer.offer(text);
        writer.offer(json);
        writer.writeQueued();

        assertEquals(List.of(line(text), line(json)), out.lines());
        assertTrue(out.lines().get(1).startsWith("{\"request_id\":\"req_2\""), out.lines().get(1));
    }

    @Test
    void dropsAndCountsLinesWhenTheQueueIsFull() {
        AccessLines out = new AccessLines();
        AccessLogWriter writer = new AccessLogWriter(out, 64, INTERVAL, clock, REAL_PARKER);
        int accepted = 0;

        for (int n = 0; n < 70; n++) {
            accepted += writer.offer(entry(n)) ? 1 : 0;
        }

        assertEquals(64, writer.capacity());
        assertEquals(64, accepted);
        assertEquals(6, writer.dropped());
        assertEquals(64, writer.writeQueued());
        assertEquals(lines(0, 64), out.lines(), "the lines queued first are kept, in order");
        assertTrue(writer.offer(entry(70)), "room again once written");
    }

    @Test
    void roundsTheQueueSizeUpToAPowerOfTwo() {
        assertEquals(8192, new AccessLogWriter(new AccessLines(), 8192, INTERVAL, clock, REAL_PARKER).capacity());
        assertEquals(128, new AccessLogWriter(new AccessLines(), 100, INTERVAL, clock, REAL_PARKER).capacity());
    }

    @Test
    void writesTheLineOfAnIdleGatewayAfterOneFlushInterval() throws Exception {
        AccessLines out = new AccessLines();
        BlockingQueue<Long> naps = new LinkedBlockingQueue<>();
        Semaphore intervalsOver = new Semaphore(0);
        AtomicBoolean done = new AtomicBoolean();
        AccessLogWriter writer = new AccessLogWriter(out, 64, INTERVAL, clock, nanos -> {
            naps.add(nanos);
            // Once the test is over, naps end at once: a fixed number of permits could run out before close().
            if (!done.get()) {
                intervalsOver.acquireUninterruptibly();
            }
        });
        writer.start();
        try {
            assertEquals(INTERVAL.toNanos(), naps.poll(20, TimeUnit.SECONDS), "the writer naps for the interval");

            writer.offer(entry(1));
            assertEquals(List.of(), out.lines(), "nothing is written while the writer naps");
            intervalsOver.release();

            assertEquals(INTERVAL.toNanos(), naps.poll(20, TimeUnit.SECONDS), "and naps again once it has written");
            assertEquals(List.of(line(entry(1))), out.lines(), "the line is out, flushed when the queue ran empty");
            assertEquals(1, out.writes());
        } finally {
            done.set(true);
            intervalsOver.release();
            writer.close();
        }
    }

    @Test
    void wakesBeforeTheIntervalIsOverWhenTheQueueIsHalfFull() throws Exception {
        AccessLines out = new AccessLines();
        Semaphore napping = new Semaphore(0);
        AtomicBoolean offered = new AtomicBoolean();
        AccessLogWriter writer = new AccessLogWriter(out, 64, Duration.ofHours(1), clock, nanos -> {
            napping.release();
            // The writer waits here until all 32 lines are queued: one that drained a line early (a nap can end
            // spuriously) would leave 31, under the mark. It spins rather than blocks: a blocking wait parks the
            // thread, which would use up the permit the wake-up leaves for the nap below.
            while (!offered.get()) {
                Thread.yield();
            }
            LockSupport.parkNanos(nanos);
        });
        writer.start();
        try {
            assertTrue(napping.tryAcquire(20, TimeUnit.SECONDS), "the writer naps");
            for (int n = 0; n < 32; n++) {
                writer.offer(entry(n));
            }
            offered.set(true);

            assertEquals(lines(0, 32), out.await(32), "written long before the hour is over");
            assertEquals(0, writer.dropped());
        } finally {
            offered.set(true);
            writer.close();
        }
    }

    @Test
    void drainsAgainWhenAWakeUpCameWhileItWroteAndALockUsedUpItsPermit() throws Exception {
        AccessLines lines = new AccessLines();
        AtomicReference<AccessLogWriter> self = new AtomicReference<>();
        AtomicBoolean firstWrite = new AtomicBoolean(true);
        OutputStream out = new OutputStream() {
            @Override
            public void write(int b) {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                lines.write(b, off, len);
                if (firstWrite.compareAndSet(true, false)) {
                    // Event loops fill the queue to the wake mark while the writer writes; the 32nd offer unparks it.
                    for (int n = 1; n <= 32; n++) {
                        self.get().offer(entry(n));
                    }
                    // Then the writer parks on a contended lock, as on Logback's when it warns: the permit is gone.
                    LockSupport.parkNanos(1);
                }
            }
        };
        BlockingQueue<Integer> writtenAtNap = new LinkedBlockingQueue<>();
        AccessLogWriter writer = new AccessLogWriter(out, 64, Duration.ofHours(1), clock, nanos -> {
            writtenAtNap.add(lines.lines().size());
            LockSupport.parkNanos(nanos);
        });
        self.set(writer);
        writer.offer(entry(0));
        writer.start();
        try {
            assertEquals(33, writtenAtNap.poll(20, TimeUnit.SECONDS),
                         "the wake-up is not lost: every line is out before the writer naps for the hour");
            assertEquals(lines(0, 33), lines.lines());
        } finally {
            writer.close();
        }
    }

    @Test
    void writesTheLinesStillQueuedWhenClosed() {
        AccessLines out = new AccessLines();
        AccessLogWriter writer = new AccessLogWriter(out, 64, Duration.ofHours(1), clock, REAL_PARKER);
        writer.start();
        for (int n = 0; n < 3; n++) {
            writer.offer(entry(n));
        }

        writer.close();

        assertEquals(lines(0, 3), out.lines(), "written on close, though the interval is far from over");
        writer.close();
        assertEquals(3, out.lines().size(), "closing twice writes nothing more");
    }

    @Test
    void writesTheLinesQueuedBeforeStartWhenClosedUnstarted() {
        AccessLines out = new AccessLines();
        AccessLogWriter writer = new AccessLogWriter(out, 64, INTERVAL, clock, REAL_PARKER);
        writer.offer(entry(1));

        writer.close();

        assertEquals(List.of(line(entry(1))), out.lines());
    }

    @Test
    void refusesToDrainOnTheCallersThreadOnceStarted() {
        AccessLogWriter writer = new AccessLogWriter(new AccessLines(), 64, INTERVAL, clock, REAL_PARKER);
        writer.start();
        try {
            assertThrows(IllegalStateException.class, writer::writeQueued);
        } finally {
            writer.close();
        }
    }

    @Test
    void countsLinesLostWhenWritingFailsAndGoesOnWhenItWorksAgain() {
        FailingStream out = new FailingStream();
        AccessLogWriter writer = new AccessLogWriter(out, 64, INTERVAL, clock, REAL_PARKER);
        for (int n = 0; n < 5; n++) {
            writer.offer(entry(n));
        }

        out.failing = true;
        writer.writeQueued();
        out.failing = false;
        writer.offer(entry(5));
        writer.writeQueued();

        assertEquals(5, writer.failed());
        assertEquals(line(entry(5)) + "\n", out.lines.text());
    }

    @Test
    void warnsOfDroppedLinesAtMostOnceAMinute() {
        Logger logger = (Logger) LoggerFactory.getLogger(AccessLogWriter.class);
        ListAppender<ILoggingEvent> warnings = new ListAppender<>();
        warnings.start();
        logger.addAppender(warnings);
        try {
            AccessLogWriter writer = new AccessLogWriter(new AccessLines(), 64, INTERVAL, clock, REAL_PARKER);
            fill(writer, 66);
            writer.writeQueued();
            fill(writer, 65);
            nanos.addAndGet(TimeUnit.SECONDS.toNanos(59));
            writer.writeQueued();
            nanos.addAndGet(TimeUnit.SECONDS.toNanos(1));
            writer.writeQueued();
            writer.writeQueued();

            List<String> messages = new ArrayList<>();
            for (ILoggingEvent e : List.copyOf(warnings.list)) {
                // This writer drains on the test's thread; a writer thread another test left finishing may warn too.
                if (!e.getThreadName().equals(Thread.currentThread().getName())) {
                    continue;
                }
                assertEquals(Level.WARN, e.getLevel());
                messages.add(e.getFormattedMessage());
            }
            assertEquals(2, messages.size(), messages.toString());
            assertTrue(messages.get(0).startsWith("access log: 2 lines dropped because 64 were already waiting"),
                       messages.get(0));
            assertTrue(messages.get(1).startsWith("access log: 1 lines dropped"), messages.get(1));
            assertEquals(3, writer.dropped());
        } finally {
            logger.detachAppender(warnings);
        }
    }

    @Test
    void neverBlocksAnOfferEvenWhenTheStreamBlocks() throws Exception {
        Semaphore unblock = new Semaphore(0);
        OutputStream stuck = new OutputStream() {
            @Override
            public void write(int b) {
                unblock.acquireUninterruptibly();
            }

            @Override
            public void write(byte[] b, int off, int len) {
                unblock.acquireUninterruptibly();
            }
        };
        AccessLogWriter writer = new AccessLogWriter(stuck, 64, Duration.ofMillis(1), clock, REAL_PARKER);
        writer.start();
        try {
            int accepted = 0;
            for (int n = 0; n < 1000; n++) {
                accepted += writer.offer(entry(n)) ? 1 : 0;
            }

            assertTrue(accepted < 1000, "some lines are dropped while the stream blocks");
            assertEquals(1000 - accepted, writer.dropped());
        } finally {
            unblock.release(1_000_000);
            writer.close();
        }
    }

    private static void fill(AccessLogWriter writer, int lines) {
        for (int n = 0; n < lines; n++) {
            writer.offer(entry(n));
        }
    }

    /** Keeps each {@code write} call's bytes apart. */
    private static final class ChunkRecorder extends OutputStream {
        final List<byte[]> chunks = new ArrayList<>();

        @Override
        public void write(int b) {
            chunks.add(new byte[] {(byte) b});
        }

        @Override
        public void write(byte[] b, int off, int len) {
            byte[] chunk = new byte[len];
            System.arraycopy(b, off, chunk, 0, len);
            chunks.add(chunk);
        }

        String text() {
            StringBuilder sb = new StringBuilder();
            for (byte[] chunk : chunks) {
                sb.append(new String(chunk, StandardCharsets.UTF_8));
            }
            return sb.toString();
        }
    }

    /** A stream that fails while {@link #failing} is set, like stdout closed under the gateway. */
    private static final class FailingStream extends OutputStream {
        final ChunkRecorder lines = new ChunkRecorder();
        volatile boolean failing;

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (failing) {
                throw new IOException("Broken pipe");
            }
            lines.write(b, off, len);
        }
    }
}
