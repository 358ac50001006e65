import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * An open-loop (constant arrival rate) HTTP/1.1 load generator over a fixed set of keep-alive
 * connections, in the spirit of wrk2.
 *
 * <p>Request {@code i} is due at {@code start + i / rate}, whether or not earlier ones have been
 * answered. A request is sent on an idle connection as soon as it is due; when every connection is
 * busy it waits in a backlog. Latency is measured from the <em>due</em> time, not from the moment the
 * request was written, so stalls of the server (or of this generator) count in full instead of being
 * hidden by a slowed-down client ("coordinated omission").
 *
 * <p>Two threads: the calling thread sends (it sleeps with {@code parkNanos}, which on Linux wakes
 * 50–60 µs late; that lag is reported as {@code sendlag} and is the same for every target), and a
 * receiver thread blocks in {@code select} and timestamps answers as they arrive. The hot path
 * allocates nothing per request.
 */
final class OpenLoop {

    /** Percentiles and counts of one run, in nanoseconds. */
    static final class Result {
        long due;
        long completed;
        long errors;
        long measured;
        double measuredSeconds;
        boolean saturated;
        String firstError;
        long[] latency = new long[0];
        long[] ttfb = new long[0];
        long[] lag = new long[0];
        long[] sendLag = new long[0];
        long minEvents = Long.MAX_VALUE;

        double rate() {
            return measured / measuredSeconds;
        }
    }

    private final InetSocketAddress address;
    private final ByteBuffer request;
    private final int connections;
    private final int pacedEvents;
    private final long pacedIntervalNanos;

    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean senderWaiting;
    private volatile boolean stop;
    private Thread sender;

    // Receiver-owned recording.
    private long[] latency;
    private long[] ttfb;
    private long[] lag;
    private long[] sendLag;
    private int samples;
    private int lags;
    private long errors;
    private long completed;
    private long minEvents = Long.MAX_VALUE;
    private String firstError;

    /**
     * @param pacedEvents        for a paced SSE upstream: how many events it sends (0 otherwise)
     * @param pacedIntervalNanos the upstream's spacing of events; event k is due (k+1) intervals after the request
     */
    OpenLoop(InetSocketAddress address, byte[] requestBytes, int connections, int pacedEvents, long pacedIntervalNanos) {
        this.address = address;
        this.request = ByteBuffer.allocateDirect(requestBytes.length).put(requestBytes).flip();
        this.connections = connections;
        this.pacedEvents = pacedEvents;
        this.pacedIntervalNanos = pacedIntervalNanos;
    }

    Result run(double rate, long warmNanos, long measureNanos, long drainNanos) throws IOException, InterruptedException {
        int maxSamples = (int) Math.min(50_000_000, rate * (measureNanos / 1e9) * 1.2 + 1000);
        latency = new long[maxSamples];
        ttfb = new long[maxSamples];
        sendLag = new long[maxSamples];
        lag = new long[pacedEvents > 0 ? maxSamples * pacedEvents : 0];
        int maxEvents = Math.max(pacedEvents + 1, 64);

        Selector selector = Selector.open();
        ArrayBlockingQueue<Http1Conn> idle = new ArrayBlockingQueue<>(connections);
        List<Http1Conn> all = new ArrayList<>(connections);
        for (int i = 0; i < connections; i++) {
            Http1Conn c = Http1Conn.open(i, address, request, maxEvents);
            c.channel.register(selector, SelectionKey.OP_READ, c);
            all.add(c);
            idle.add(c);
        }
        sender = Thread.currentThread();
        Thread receiver = new Thread(() -> receive(selector, idle), "receiver");
        receiver.setDaemon(true);
        receiver.start();

        Result r = new Result();
        double intervalNanos = 1e9 / rate;
        int backlogCapacity = (int) Math.max(1024, rate * 2); // 2 s of arrivals; more means the target is saturated
        long[] backlog = new long[backlogCapacity];
        int head = 0;
        int size = 0;
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5);
        long measureStart = start + warmNanos;
        long end = measureStart + measureNanos;
        long i = 0;
        try {
            while (true) {
                long now = System.nanoTime();
                if (now >= end && size == 0) {
                    break;
                }
                if (now >= end + drainNanos) {
                    r.saturated = true;
                    break;
                }
                long due;
                while (now < end && (due = start + (long) (i * intervalNanos)) <= now && due < end) {
                    if (size == backlogCapacity) {
                        r.saturated = true;
                        break;
                    }
                    backlog[(head + size) % backlogCapacity] = due;
                    size++;
                    i++;
                }
                if (r.saturated) {
                    break;
                }
                Http1Conn c;
                while (size > 0 && (c = idle.poll()) != null) {
                    long t = backlog[head];
                    head = (head + 1) % backlogCapacity;
                    size--;
                    inFlight.incrementAndGet();
                    try {
                        c.send(t, t >= measureStart);
                    } catch (IOException e) {
                        inFlight.decrementAndGet();
                        recordError("send failed: " + e.getMessage());
                        c.close();
                        continue;
                    }
                    if (t >= measureStart) {
                        recordSendLag(System.nanoTime() - t);
                    }
                }
                long next = start + (long) (i * intervalNanos);
                long wait = (now < end ? next : end + drainNanos) - System.nanoTime();
                if (size > 0) {
                    senderWaiting = true;
                    if (idle.isEmpty()) {
                        LockSupport.parkNanos(Math.max(1, Math.min(wait, TimeUnit.MILLISECONDS.toNanos(1))));
                    }
                    senderWaiting = false;
                } else if (wait > 0 && now < end) {
                    LockSupport.parkNanos(wait);
                }
            }
            r.due = i;
            // Wait for answers still on their way.
            long drainEnd = System.nanoTime() + drainNanos;
            while (inFlight.get() > 0 && System.nanoTime() < drainEnd) {
                Thread.sleep(1);
            }
            if (inFlight.get() > 0) {
                r.saturated = true;
                recordError(inFlight.get() + " requests unanswered " + drainNanos / 1_000_000 + " ms after the run");
            }
        } finally {
            stop = true;
            selector.wakeup();
            receiver.join(2000);
            for (Http1Conn c : all) {
                c.close();
            }
            selector.close();
        }
        r.completed = completed;
        synchronized (this) {
            r.errors = errors;
            r.firstError = firstError;
        }
        r.measured = samples;
        r.measuredSeconds = measureNanos / 1e9;
        r.latency = sorted(latency, samples);
        r.ttfb = sorted(ttfb, samples);
        r.sendLag = sorted(sendLag, sendLagCount);
        r.lag = sorted(lag, lags);
        r.minEvents = minEvents;
        return r;
    }

    private int sendLagCount;

    private void recordSendLag(long v) {
        if (sendLagCount < sendLag.length) {
            sendLag[sendLagCount++] = v;
        }
    }

    private void receive(Selector selector, ArrayBlockingQueue<Http1Conn> idle) {
        ByteBuffer buf = ByteBuffer.allocateDirect(256 * 1024);
        try {
            while (!stop) {
                selector.select(key -> {
                    Http1Conn c = (Http1Conn) key.attachment();
                    long due = c.intended; // volatile read: makes the sender's parser reset visible
                    buf.clear();
                    int n;
                    try {
                        n = c.channel.read(buf);
                    } catch (IOException e) {
                        n = -1;
                    }
                    long now = System.nanoTime();
                    if (n < 0) {
                        key.cancel();
                        c.close();
                        if (due != 0 && c.endNanos == 0) {
                            recordError("connection " + c.id + " closed by the server mid-response");
                            done();
                        }
                        return;
                    }
                    buf.flip();
                    boolean complete;
                    try {
                        complete = c.parse(buf, now);
                    } catch (IOException e) {
                        key.cancel();
                        c.close();
                        recordError("bad response: " + e.getMessage());
                        done();
                        return;
                    }
                    if (!complete) {
                        return;
                    }
                    record(c);
                    if (c.closeAfter()) {
                        key.cancel();
                        c.close();
                    } else {
                        idle.offer(c);
                    }
                    done();
                }, 50);
            }
        } catch (IOException e) {
            recordError("selector failed: " + e);
        }
    }

    private void done() {
        inFlight.decrementAndGet();
        if (senderWaiting) {
            LockSupport.unpark(sender);
        }
    }

    private void record(Http1Conn c) {
        completed++;
        if (c.status != 200) {
            recordError("HTTP status " + c.status);
            return;
        }
        if (!c.measured || samples == latency.length) {
            return;
        }
        long t0 = c.intended;
        latency[samples] = c.endNanos - t0;
        ttfb[samples] = (c.firstDataNanos == 0 ? c.endNanos : c.firstDataNanos) - t0;
        samples++;
        if (pacedEvents > 0) {
            minEvents = Math.min(minEvents, c.events);
            int n = Math.min(pacedEvents, c.events);
            for (int k = 0; k < n && lags < lag.length; k++) {
                lag[lags++] = c.eventNanos[k] - t0 - (k + 1) * pacedIntervalNanos;
            }
        }
    }

    private synchronized void recordError(String message) {
        errors++;
        if (firstError == null) {
            firstError = message;
        }
    }

    private static long[] sorted(long[] values, int n) {
        long[] copy = Arrays.copyOf(values, n);
        Arrays.sort(copy);
        return copy;
    }

    /** Returns the {@code q}-quantile (0..1) of sorted {@code values}, or -1 when empty. */
    static long percentile(long[] values, double q) {
        if (values.length == 0) {
            return -1;
        }
        int index = (int) Math.ceil(q * values.length) - 1;
        return values[Math.max(0, Math.min(values.length - 1, index))];
    }
}
