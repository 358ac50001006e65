package dev.detour.server.reload;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls back when the config file may have changed: a daemon thread watches the file's directory and, once
 * changes have settled for the debounce time, runs the callback once.
 *
 * <p>The directory is watched rather than the file because editors and deployment tools replace a file by
 * writing another and renaming it over the original (vim, {@code sed -i}, Kubernetes ConfigMap volumes, which
 * swap a {@code ..data} symlink), and a watch on the file itself would be lost with the old file. Any event in
 * the directory counts: the callback compares the file's hash with the running version's, so a change to
 * another file costs one read of a small file and nothing else. The debounce lets a write in several steps
 * finish before the file is read; it cannot make a non-atomic write atomic, so write the file atomically
 * (to a temporary file, then rename) where you can.
 *
 * <p>Threading: the callback runs on the watcher's thread ({@code detour-config-watcher}), never an event
 * loop; it should hand the work on rather than block. {@link #close()} stops the thread.
 */
public final class ConfigWatcher implements AutoCloseable {

    /** How long changes must have settled before the callback runs. */
    public static final Duration DEFAULT_DEBOUNCE = Duration.ofMillis(300);

    private static final Logger LOG = LoggerFactory.getLogger(ConfigWatcher.class);

    private final Path directory;
    private final WatchService watch;
    private final long debounceNanos;
    private final Runnable onChange;
    private final Thread thread;

    private ConfigWatcher(Path directory, WatchService watch, Duration debounce, Runnable onChange) {
        this.directory = directory;
        this.watch = watch;
        this.debounceNanos = debounce.toNanos();
        this.onChange = onChange;
        this.thread = new Thread(this::run, "detour-config-watcher");
        this.thread.setDaemon(true);
    }

    /**
     * Starts watching {@code file}'s directory; {@code onChange} runs once after each burst of changes.
     *
     * @throws IOException if the directory cannot be watched
     */
    public static ConfigWatcher start(Path file, Duration debounce, Runnable onChange) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(debounce, "debounce");
        Objects.requireNonNull(onChange, "onChange");
        Path directory = file.toAbsolutePath().normalize().getParent();
        WatchService watch = FileSystems.getDefault().newWatchService();
        try {
            directory.register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                               StandardWatchEventKinds.ENTRY_DELETE);
        } catch (IOException | RuntimeException e) {
            watch.close();
            throw e;
        }
        ConfigWatcher watcher = new ConfigWatcher(directory, watch, debounce, onChange);
        watcher.thread.start();
        LOG.info("watching {} for changes to {}", directory, file.getFileName());
        return watcher;
    }

    @Override
    public void close() {
        try {
            watch.close();
        } catch (IOException e) {
            LOG.debug("closing the config watcher: {}", e.toString());
        }
    }

    private void run() {
        boolean pending = false;
        long quietFrom = 0;
        try {
            while (true) {
                WatchKey key;
                if (pending) {
                    long wait = quietFrom - System.nanoTime();
                    key = wait > 0 ? watch.poll(wait, TimeUnit.NANOSECONDS) : null;
                    if (key == null) {
                        pending = false;
                        fire();
                        continue;
                    }
                } else {
                    key = watch.take();
                }
                // Every event counts, overflow included: the callback checks whether the file changed.
                key.pollEvents();
                pending = true;
                quietFrom = System.nanoTime() + debounceNanos;
                if (!key.reset()) {
                    LOG.warn("stopped watching {}: the directory is gone; reload with SIGHUP or POST /admin/reload",
                             directory);
                    return;
                }
            }
        } catch (ClosedWatchServiceException e) {
            LOG.debug("config watcher closed");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void fire() {
        try {
            onChange.run();
        } catch (RuntimeException e) {
            // The watcher must outlive a failing callback; the failure is the callback's to report.
            LOG.error("config change callback failed", e);
        }
    }
}
