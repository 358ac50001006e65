package dev.detour.usage;

import dev.detour.config.UsageConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a {@link UsageLedger}'s day and month windows across restarts: restores them from
 * {@code <usage.data-dir>/usage.json} at start-up, writes the file every {@code usage.flush-interval} when
 * something was counted, and once more on {@link #close()}.
 *
 * <p>Why a snapshot file rather than an embedded database: the state is small (one entry per client, team,
 * route, key and budget scope, bounded by the config) and written whole in well under a millisecond, so a
 * periodic atomic replace (see {@link UsageFile}) gives the same guarantee, losing at most one interval of
 * accounting on a crash, with no dependency, no schema and a file an operator can read.
 *
 * <p>Start-up: a missing file is a first start. A file that cannot be read or parsed stops start-up with a
 * message naming it: starting from zero instead would silently reopen every budget that was used up. Without a
 * data directory usage lives in memory only, and a WARN says so.
 *
 * <p>Threading: one daemon thread writes; nothing on the request path waits for it. A failed write is logged
 * (at most once a minute while it keeps failing) and tried again at the next interval.
 */
public final class UsagePersistence implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(UsagePersistence.class);
    private static final long WARN_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final UsageLedger ledger;
    private final UsageFile file;
    private final ScheduledExecutorService scheduler;
    private final Object writeLock = new Object();
    private long written = -1;
    private long lastWarning;
    private boolean failing;
    private boolean closed;

    private UsagePersistence(UsageLedger ledger, UsageFile file, Duration interval) {
        this.ledger = ledger;
        this.file = file;
        if (file == null) {
            this.scheduler = null;
            return;
        }
        this.written = ledger.changes(); // open() has just written everything counted so far
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "detour-usage-flush");
            t.setDaemon(true);
            return t;
        });
        long nanos = interval.toNanos();
        scheduler.scheduleWithFixedDelay(this::flushQuietly, nanos, nanos, TimeUnit.NANOSECONDS);
    }

    /**
     * Restores {@code ledger} from the data directory of {@code config} and starts writing it there; without a
     * data directory, keeps usage in memory only and says so.
     *
     * @throws UsageFileException if the directory cannot be made or written, or the file cannot be read
     */
    public static UsagePersistence open(UsageConfig config, UsageLedger ledger) throws UsageFileException {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(ledger, "ledger");
        if (config.dataDir().isEmpty()) {
            LOG.warn("usage accounting is kept in memory only (no usage.data-dir): a restart forgets every client's "
                     + "and team's spend, and every budget starts again from zero");
            return new UsagePersistence(ledger, null, config.flushInterval());
        }
        Path dir = config.dataDir().get();
        UsageFile file = new UsageFile(dir);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UsageFileException("cannot create usage.data-dir " + dir + " (" + e + "); create it, or "
                                         + "point usage.data-dir at a writable directory", e);
        }
        Optional<UsageSnapshot> saved = file.read();
        saved.ifPresent(ledger::restore);
        try {
            // Written once now, so that a directory Detour cannot write to stops start-up, not the first flush.
            file.write(ledger.snapshot());
        } catch (IOException e) {
            throw new UsageFileException("cannot write the usage file " + file.path() + " (" + e + "); make "
                                         + dir + " writable, or point usage.data-dir elsewhere", e);
        }
        LOG.info("usage accounting kept in {}, written every {} ms{}", file.path(), config.flushInterval().toMillis(),
                 saved.map(s -> " (restored " + s.accounts().size() + " accounts saved at " + s.takenAt() + ")")
                         .orElse(" (no usage recorded before)"));
        return new UsagePersistence(ledger, file, config.flushInterval());
    }

    /** Returns the usage file, or empty when usage is kept in memory only. */
    public Optional<Path> file() {
        return file == null ? Optional.empty() : Optional.of(file.path());
    }

    /**
     * Writes the ledger to the file now if anything was counted since the last write.
     *
     * @throws IOException if the file cannot be written; the previous file stays as it was
     */
    public void flush() throws IOException {
        if (file == null) {
            return;
        }
        synchronized (writeLock) {
            // Read before the snapshot: a request counted meanwhile is either in it, or makes the next flush write.
            long changes = ledger.changes();
            if (changes == written) {
                return;
            }
            file.write(ledger.snapshot());
            written = changes;
        }
    }

    /** Stops the periodic writes and writes a last time. Idempotent. */
    @Override
    public void close() {
        if (scheduler == null) {
            return;
        }
        synchronized (writeLock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        scheduler.shutdown();
        try {
            if (!scheduler.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("the usage writer did not stop within 5 s; writing the last snapshot anyway");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            flush();
        } catch (IOException | RuntimeException e) {
            LOG.error("could not write the last usage snapshot to {}: {}; the file holds the usage of the last "
                      + "successful write", file.path(), e.toString());
        }
    }

    private void flushQuietly() {
        try {
            flush();
            if (failing) {
                failing = false;
                LOG.info("usage file {} written again", file.path());
            }
        } catch (IOException | RuntimeException e) {
            // Catch everything: a scheduled task that throws is never run again.
            long now = System.nanoTime();
            if (!failing || now - lastWarning >= WARN_EVERY_NANOS) {
                LOG.warn("cannot write the usage file {} ({}); usage keeps being counted in memory and the write is "
                         + "retried every interval", file.path(), e.toString());
                lastWarning = now;
            }
            failing = true;
        }
    }
}
