package dev.detour.server.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scriptable HTTP/1.1 upstream on a loopback port, for faults WireMock cannot stage: answering
 * part of a stream and then closing, never answering, or noticing when the gateway hangs up.
 *
 * <p>Each connection runs {@link Script} on its own thread after the request head and body were read.
 */
public final class RawUpstream implements AutoCloseable {

    private final ServerSocket socket;
    private final Script script;
    private final List<Socket> connections = new ArrayList<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final CountDownLatch peerClosed = new CountDownLatch(1);
    private final Thread acceptor;

    /** What the upstream does with one request. */
    @FunctionalInterface
    public interface Script {
        void answer(String requestHead, OutputStream out, RawUpstream upstream) throws Exception;
    }

    private RawUpstream(Script script) throws IOException {
        this.socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.script = script;
        this.acceptor = new Thread(this::acceptLoop, "raw-upstream-" + socket.getLocalPort());
        this.acceptor.setDaemon(true);
        this.acceptor.start();
    }

    /** Starts an upstream that runs {@code script} for every request. */
    public static RawUpstream start(Script script) throws IOException {
        return new RawUpstream(script);
    }

    /** Returns the port. */
    public int port() {
        return socket.getLocalPort();
    }

    /** Returns how many requests arrived. */
    public int requests() {
        return requests.get();
    }

    /** Returns a latch released when the gateway closes a connection while a script waits for it. */
    public CountDownLatch peerClosed() {
        return peerClosed;
    }

    /** Blocks until the gateway closes {@code in}'s connection or {@code millis} pass; returns whether it closed. */
    public boolean awaitPeerClose(InputStream in, long millis) {
        long deadline = System.currentTimeMillis() + millis;
        try {
            while (System.currentTimeMillis() < deadline) {
                if (in.read() < 0) {
                    peerClosed.countDown();
                    return true;
                }
            }
        } catch (IOException e) {
            peerClosed.countDown();
            return true;
        }
        return false;
    }

    private void acceptLoop() {
        while (!socket.isClosed()) {
            try {
                Socket s = socket.accept();
                synchronized (connections) {
                    connections.add(s);
                }
                Thread t = new Thread(() -> serve(s), "raw-upstream-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            String head = readHead(in);
            if (head == null) {
                return;
            }
            int length = contentLength(head);
            in.readNBytes(length);
            requests.incrementAndGet();
            script.answer(head, s.getOutputStream(), this);
            while (script instanceof KeepAlive && (head = readHead(in)) != null) {
                in.readNBytes(contentLength(head));
                requests.incrementAndGet();
                script.answer(head, s.getOutputStream(), this);
            }
            if (script instanceof KeepAlive) {
                peerClosed.countDown(); // the gateway closed the connection
            }
            // Let a script that waits for the gateway to hang up do so through the same stream.
            if (!s.isClosed() && script instanceof Awaiting) {
                awaitPeerClose(in, 10_000);
            }
        } catch (Exception e) {
            // A script ends when its peer goes away; nothing to report.
        }
    }

    /** Marks a script after which the upstream keeps reading until the gateway closes the connection. */
    public interface Awaiting extends Script {
    }

    /** Marks a script that answers every request of a connection (keep-alive), not just the first. */
    public interface KeepAlive extends Script {
    }

    /** Returns how many connections the gateway opened. */
    public int connections() {
        synchronized (connections) {
            return connections.size();
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == 4) {
                return head.toString(StandardCharsets.ISO_8859_1);
            }
        }
        return null;
    }

    private static int contentLength(String head) {
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                return Integer.parseInt(line.substring(15).trim());
            }
        }
        return 0;
    }

    /** Writes {@code text} as ISO-8859-1 bytes and flushes. */
    public static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Writes one chunk of a chunked body and flushes. */
    public static void chunk(OutputStream out, String data) throws IOException {
        byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
        out.write((Integer.toHexString(bytes.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    @Override
    public void close() throws IOException {
        socket.close();
        synchronized (connections) {
            for (Socket s : connections) {
                s.close();
            }
        }
    }
}
