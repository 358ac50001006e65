package dev.detour.server.testing;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Stands in for stdout as the access log's stream: keeps the bytes written, for a test to read the lines and how
 * they were written. Thread-safe.
 */
public final class AccessLines extends OutputStream {

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private int writes;

    @Override
    public synchronized void write(int b) {
        bytes.write(b);
        writes++;
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
        bytes.write(b, off, len);
        writes++;
    }

    /** Returns the complete lines written so far, without their line separators. */
    public synchronized List<String> lines() {
        String text = bytes.toString(StandardCharsets.UTF_8);
        List<String> lines = new ArrayList<>();
        int start = 0;
        for (int end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
            lines.add(text.substring(start, end));
            start = end + 1;
        }
        return lines;
    }

    /** Returns every byte written so far. */
    public synchronized byte[] bytes() {
        return bytes.toByteArray();
    }

    /** Returns how many {@code write} calls there were. */
    public synchronized int writes() {
        return writes;
    }

    /**
     * Waits (at most 15 seconds) until {@code count} lines are written, asserts that there are no more, and
     * returns them. The writer writes at least every flush interval, so lines come soon after the requests.
     */
    public List<String> await(int count) {
        Eventually.assertCount(count, () -> lines().size(), "access-log lines");
        return lines();
    }
}
