import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * One keep-alive HTTP/1.1 client connection of the load generator, with an incremental response
 * parser (Content-Length or chunked bodies) that timestamps the first body byte, every SSE event end
 * ({@code \n\n}) and the end of the response.
 *
 * <p>Threading: the sender thread writes a request only while the connection is idle (owned by it);
 * the receiver thread parses the answer. The hand-over is through {@link #intended} (volatile) and the
 * idle queue in {@link OpenLoop}, so the parser fields need no synchronisation.
 */
final class Http1Conn {

    private static final int MAX_LINE = 16 * 1024;

    private enum State { STATUS_LINE, HEADERS, BODY_LENGTH, CHUNK_SIZE, CHUNK_DATA, CHUNK_DATA_END, TRAILERS, DONE }

    final int id;
    final SocketChannel channel;
    private final ByteBuffer request;

    /** When the request should have been sent (open loop: the schedule), in System.nanoTime(). */
    volatile long intended;
    /** Whether the request belongs to the measured window (false during the generator's warm-up). */
    boolean measured;
    boolean dead;

    // Parser state, touched by the receiver thread only.
    private State state = State.STATUS_LINE;
    private final byte[] line = new byte[MAX_LINE];
    private int lineLength;
    private boolean lineCr;
    int status;
    private long contentLength;
    private boolean chunked;
    private boolean closeAfter;
    private long remaining;
    private int prevDataByte = -1;
    long firstDataNanos;
    long endNanos;
    int events;
    final long[] eventNanos;

    private Http1Conn(int id, SocketChannel channel, ByteBuffer request, int maxEvents) {
        this.id = id;
        this.channel = channel;
        this.request = request;
        this.eventNanos = new long[maxEvents];
    }

    /** Opens a blocking connect, then switches the channel to non-blocking. */
    static Http1Conn open(int id, InetSocketAddress address, ByteBuffer requestBytes, int maxEvents) throws IOException {
        SocketChannel ch = SocketChannel.open();
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        ch.connect(address);
        ch.configureBlocking(false);
        return new Http1Conn(id, ch, requestBytes.duplicate(), maxEvents);
    }

    /**
     * Resets the parser, publishes the due time, and writes the whole request. Called by the sender
     * while it owns the connection (it took it from the idle queue).
     */
    void send(long due, boolean inWindow) throws IOException {
        state = State.STATUS_LINE;
        lineLength = 0;
        lineCr = false;
        status = 0;
        contentLength = -1;
        chunked = false;
        closeAfter = false;
        prevDataByte = -1;
        firstDataNanos = 0;
        endNanos = 0;
        events = 0;
        measured = inWindow;
        intended = due; // volatile write last: the receiver reads it first
        request.clear();
        while (request.hasRemaining()) {
            if (channel.write(request) == 0) {
                Thread.onSpinWait(); // the socket buffer is full: rare with requests of a few KB
            }
        }
    }

    /**
     * Parses {@code buf} (read at {@code now}); returns true when the response is complete.
     *
     * @throws IOException when the response is malformed
     */
    boolean parse(ByteBuffer buf, long now) throws IOException {
        while (buf.hasRemaining()) {
            switch (state) {
                case STATUS_LINE, HEADERS, CHUNK_SIZE, CHUNK_DATA_END, TRAILERS -> {
                    if (readLine(buf)) {
                        onLine(now);
                        if (state == State.DONE) {
                            endNanos = now;
                            if (buf.hasRemaining()) {
                                throw new IOException("bytes after the response (pipelining is not used)");
                            }
                            return true;
                        }
                    }
                }
                case BODY_LENGTH -> {
                    int n = (int) Math.min(remaining, buf.remaining());
                    data(buf, n, now);
                    remaining -= n;
                    if (remaining == 0) {
                        state = State.DONE;
                        endNanos = now;
                        if (buf.hasRemaining()) {
                            throw new IOException("bytes after the response (pipelining is not used)");
                        }
                        return true;
                    }
                }
                case CHUNK_DATA -> {
                    int n = (int) Math.min(remaining, buf.remaining());
                    data(buf, n, now);
                    remaining -= n;
                    if (remaining == 0) {
                        state = State.CHUNK_DATA_END;
                    }
                }
                case DONE -> throw new IOException("bytes after the response");
            }
        }
        return false;
    }

    boolean closeAfter() {
        return closeAfter;
    }

    private void data(ByteBuffer buf, int n, long now) {
        if (n > 0 && firstDataNanos == 0) {
            firstDataNanos = now;
        }
        int end = buf.position() + n;
        for (int i = buf.position(); i < end; i++) {
            int b = buf.get(i);
            if (b == '\n' && prevDataByte == '\n') {
                if (events < eventNanos.length) {
                    eventNanos[events] = now;
                }
                events++;
            }
            prevDataByte = b;
        }
        buf.position(end);
    }

    private boolean readLine(ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            byte b = buf.get();
            if (b == '\n') {
                return true;
            }
            if (lineCr) {
                appendLine((byte) '\r');
            }
            lineCr = b == '\r';
            if (!lineCr) {
                appendLine(b);
            }
        }
        return false;
    }

    private void appendLine(byte b) throws IOException {
        if (lineLength == MAX_LINE) {
            throw new IOException("response line longer than " + MAX_LINE + " bytes");
        }
        line[lineLength++] = b;
    }

    private void onLine(long now) throws IOException {
        int n = lineLength;
        lineLength = 0;
        lineCr = false;
        switch (state) {
            case STATUS_LINE -> {
                if (n < 12 || line[0] != 'H') {
                    throw new IOException("bad status line: " + new String(line, 0, n));
                }
                status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
                state = State.HEADERS;
            }
            case HEADERS -> {
                if (n == 0) {
                    if (status < 200) {
                        state = State.STATUS_LINE; // 100 Continue
                    } else if (chunked) {
                        state = State.CHUNK_SIZE;
                    } else if (contentLength > 0) {
                        remaining = contentLength;
                        state = State.BODY_LENGTH;
                    } else if (contentLength == 0) {
                        state = State.DONE;
                    } else {
                        throw new IOException("response without Content-Length or chunked body (status " + status + ")");
                    }
                    return;
                }
                if (startsWithIgnoreCase(n, "content-length:")) {
                    contentLength = Long.parseLong(value(n, 15));
                } else if (startsWithIgnoreCase(n, "transfer-encoding:")) {
                    chunked = value(n, 18).equalsIgnoreCase("chunked");
                } else if (startsWithIgnoreCase(n, "connection:")) {
                    closeAfter = value(n, 11).equalsIgnoreCase("close");
                }
            }
            case CHUNK_SIZE -> {
                long size = 0;
                for (int i = 0; i < n; i++) {
                    int c = line[i];
                    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                            : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                    if (d < 0) {
                        if (i == 0) {
                            throw new IOException("bad chunk size line");
                        }
                        break; // chunk extension
                    }
                    size = size * 16 + d;
                }
                if (size == 0) {
                    state = State.TRAILERS;
                } else {
                    remaining = size;
                    state = State.CHUNK_DATA;
                }
            }
            case CHUNK_DATA_END -> {
                if (n != 0) {
                    throw new IOException("missing CRLF after chunk data");
                }
                state = State.CHUNK_SIZE;
            }
            case TRAILERS -> {
                if (n == 0) {
                    state = State.DONE;
                }
            }
            default -> throw new IOException("unexpected line in state " + state);
        }
    }

    private boolean startsWithIgnoreCase(int n, String prefix) {
        if (n < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (Character.toLowerCase((char) line[i]) != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private String value(int n, int from) {
        return new String(line, from, n - from, java.nio.charset.StandardCharsets.US_ASCII).trim();
    }

    void close() {
        dead = true;
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a load-generator socket: nothing to do
        }
    }
}
