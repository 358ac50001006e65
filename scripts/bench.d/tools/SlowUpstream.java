import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A mock OpenAI upstream that takes its time, for what nginx cannot do without extra modules:
 *
 * <ul>
 *   <li>{@code POST /slow/v1/chat/completions}: the chat.completion JSON after a fixed delay
 *       (default 50 ms), with Content-Length, as a model that needs time to answer;</li>
 *   <li>{@code POST /paced/v1/chat/completions}: the SSE headers at once, then the stream's events one
 *       per chunk, event k (counting from 0) at (k+1) × interval after the request arrived, then
 *       {@code data: [DONE]} right after the last event, so a client can tell whether a proxy forwards
 *       chunks as they arrive or holds them back.</li>
 * </ul>
 *
 * <p>Keep-alive HTTP/1.1; request bodies (Content-Length only) are read and dropped. One thread reads
 * (blocked in {@code select}, so a request is seen the moment it arrives and the schedule starts from
 * then); a second one, a scheduled executor, writes the delayed answers and paced events (its timers
 * fire 50–100 µs late, the same for every target).
 *
 * <pre>java SlowUpstream PORT COMPLETION_JSON STREAM_SSE [DELAY_MS] [INTERVAL_MS]</pre>
 */
public final class SlowUpstream {

    private static final byte[] NOT_FOUND = ("HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\n"
            + "content-length: 10\r\n\r\nnot found\n").getBytes(StandardCharsets.US_ASCII);

    private final Selector selector;
    private final byte[] completion;
    private final List<byte[]> events;
    private final long delayNanos;
    private final long intervalNanos;
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "timers");
        t.setDaemon(true);
        return t;
    });

    private SlowUpstream(Selector selector, byte[] completion, List<byte[]> events, long delayNanos,
                         long intervalNanos) {
        this.selector = selector;
        this.completion = completion;
        this.events = events;
        this.delayNanos = delayNanos;
        this.intervalNanos = intervalNanos;
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: SlowUpstream PORT COMPLETION_JSON STREAM_SSE [DELAY_MS] [INTERVAL_MS]");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        byte[] json = Files.readAllBytes(Path.of(args[1]));
        String sse = Files.readString(Path.of(args[2]));
        long delayMs = args.length > 3 ? Long.parseLong(args[3]) : 50;
        long intervalMs = args.length > 4 ? Long.parseLong(args[4]) : 10;
        List<byte[]> events = new ArrayList<>();
        for (String e : sse.split("\n\n")) {
            if (!e.isBlank()) {
                events.add((e + "\n\n").getBytes(StandardCharsets.UTF_8));
            }
        }
        byte[] head = ("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: " + json.length
                       + "\r\nopenai-processing-ms: " + delayMs + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] completion = new byte[head.length + json.length];
        System.arraycopy(head, 0, completion, 0, head.length);
        System.arraycopy(json, 0, completion, head.length, json.length);

        Selector selector = Selector.open();
        ServerSocketChannel server = ServerSocketChannel.open();
        server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        server.bind(new InetSocketAddress("127.0.0.1", port), 4096);
        server.configureBlocking(false);
        server.register(selector, SelectionKey.OP_ACCEPT);
        System.err.println("slow upstream on 127.0.0.1:" + port + " (delay " + delayMs + " ms, " + events.size()
                           + " events every " + intervalMs + " ms)");
        new SlowUpstream(selector, completion, events, TimeUnit.MILLISECONDS.toNanos(delayMs),
                         TimeUnit.MILLISECONDS.toNanos(intervalMs)).loop();
    }

    private void loop() throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024);
        while (true) {
            selector.select();
            long now = System.nanoTime();
            for (SelectionKey key : selector.selectedKeys()) {
                if (!key.isValid()) {
                    continue;
                }
                if (key.isAcceptable()) {
                    SocketChannel ch = ((ServerSocketChannel) key.channel()).accept();
                    if (ch != null) {
                        ch.configureBlocking(false);
                        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                        ch.register(selector, SelectionKey.OP_READ, new Conn(ch));
                    }
                } else if (key.isReadable()) {
                    read((Conn) key.attachment(), buf, now);
                }
            }
            selector.selectedKeys().clear();
        }
    }

    private void read(Conn c, ByteBuffer buf, long now) {
        buf.clear();
        int n;
        try {
            n = c.ch.read(buf);
        } catch (IOException e) {
            n = -1;
        }
        if (n < 0) {
            c.close();
            return;
        }
        buf.flip();
        while (buf.hasRemaining()) {
            if (c.bodyLeft > 0) {
                int skip = (int) Math.min(c.bodyLeft, buf.remaining());
                buf.position(buf.position() + skip);
                c.bodyLeft -= skip;
                if (c.bodyLeft == 0) {
                    dispatch(c, now);
                }
                continue;
            }
            byte b = buf.get();
            c.head.append((char) b);
            if (c.head.length() > 64 * 1024) {
                c.close();
                return;
            }
            int len = c.head.length();
            if (len >= 4 && c.head.charAt(len - 1) == '\n' && c.head.charAt(len - 2) == '\r'
                && c.head.charAt(len - 3) == '\n' && c.head.charAt(len - 4) == '\r') {
                parseHead(c);
                if (c.open && c.bodyLeft == 0) {
                    dispatch(c, now);
                }
            }
        }
    }

    private void parseHead(Conn c) {
        String head = c.head.toString();
        c.head.setLength(0);
        int sp1 = head.indexOf(' ');
        int sp2 = head.indexOf(' ', sp1 + 1);
        c.path = sp1 > 0 && sp2 > sp1 ? head.substring(sp1 + 1, sp2) : "";
        c.bodyLeft = 0;
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("content-length")) {
                c.bodyLeft = Long.parseLong(line.substring(colon + 1).trim());
            } else if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("transfer-encoding")) {
                System.err.println("slow upstream: chunked request bodies are not supported");
                c.close();
                return;
            }
        }
    }

    /** Answers the request that arrived at {@code now} (System.nanoTime()). */
    private void dispatch(Conn c, long now) {
        int q = c.path.indexOf('?');
        String path = q < 0 ? c.path : c.path.substring(0, q);
        switch (path) {
            case "/slow/v1/chat/completions" -> schedule(c, now + delayNanos, () -> c.write(completion));
            case "/paced/v1/chat/completions" -> {
                c.write(("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
                         + "transfer-encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                int last = events.size() - 1; // the [DONE] event goes out with the last real one
                for (int k = 0; k < last; k++) {
                    byte[] chunk = k == last - 1 ? concat(events.get(k), events.get(last)) : events.get(k);
                    boolean end = k == last - 1;
                    schedule(c, now + (k + 1) * intervalNanos, () -> {
                        c.write(chunk(chunk));
                        if (end) {
                            c.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                        }
                    });
                }
            }
            default -> c.write(NOT_FOUND);
        }
    }

    private void schedule(Conn c, long at, Runnable action) {
        timers.schedule(() -> {
            if (c.open) {
                action.run();
            }
        }, at - System.nanoTime(), TimeUnit.NANOSECONDS);
    }

    private static byte[] chunk(byte[] data) {
        byte[] size = (Integer.toHexString(data.length) + "\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[size.length + data.length + 2];
        System.arraycopy(size, 0, out, 0, size.length);
        System.arraycopy(data, 0, out, size.length, data.length);
        out[out.length - 2] = '\r';
        out[out.length - 1] = '\n';
        return out;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** One client connection; written by both threads, hence the synchronised writes. */
    private static final class Conn {
        final SocketChannel ch;
        final StringBuilder head = new StringBuilder(1024);
        String path = "";
        long bodyLeft;
        volatile boolean open = true;

        Conn(SocketChannel ch) {
            this.ch = ch;
        }

        synchronized void write(byte[] data) {
            if (!open) {
                return;
            }
            ByteBuffer b = ByteBuffer.wrap(data);
            try {
                while (b.hasRemaining()) {
                    if (ch.write(b) == 0) {
                        LockSupport.parkNanos(50_000); // the client reads slowly: wait for room
                    }
                }
            } catch (IOException e) {
                close();
            }
        }

        void close() {
            open = false;
            try {
                ch.close();
            } catch (IOException ignored) {
                // the peer is gone already
            }
        }
    }
}
