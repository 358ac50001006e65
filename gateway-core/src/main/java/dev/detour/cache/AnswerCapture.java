package dev.detour.cache;

import dev.detour.api.UsageScanner;
import dev.detour.filter.GatewayResponse;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * Keeps a copy of an answer as the server relays it, to store once it has ended normally: a stream through
 * a {@link StreamAssembler}, a JSON body as its bytes. Past the entry size limit it stops copying and drops
 * what it held, so memory stays bounded; the relay itself is never slowed or changed.
 *
 * <p>One per response; called on the request's executor only. Never throws into the relay.
 */
final class AnswerCapture implements GatewayResponse.BodyObserver {

    /** Hears the end of a capture. */
    @FunctionalInterface
    interface Result {
        /**
         * The capture ended.
         *
         * @param json     the complete answer's JSON, or {@code null} when it cannot be stored
         * @param tooLarge whether it was not kept because of its size
         */
        void captured(byte[] json, boolean tooLarge);
    }

    private final int maxBytes;
    private final StreamAssembler stream;
    private final UsageScanner usage;
    private final Result result;
    private byte[] body;
    private int length;
    private boolean tooLarge;
    private boolean broken;
    private boolean ended;

    private AnswerCapture(int maxBytes, boolean stream, UsageScanner usage, Result result) {
        this.maxBytes = maxBytes;
        this.stream = stream ? new StreamAssembler(maxBytes) : null;
        this.usage = usage;
        this.result = Objects.requireNonNull(result, "result");
        this.body = stream ? null : new byte[Math.min(maxBytes, 4096)];
    }

    /**
     * Returns a capture of an OpenAI chat stream, assembled into a {@code chat.completion}.
     *
     * @param usage the request's usage scanner, read when the stream carries no usage chunk of its own
     *              (Detour hid the one it asked for); may be {@code null}
     */
    static AnswerCapture ofStream(int maxBytes, UsageScanner usage, Result result) {
        return new AnswerCapture(maxBytes, true, usage, result);
    }

    /** Returns a capture of a JSON body, kept as it is. */
    static AnswerCapture ofBody(int maxBytes, Result result) {
        return new AnswerCapture(maxBytes, false, null, result);
    }

    @Override
    public void onChunk(ByteBuffer bytes) {
        if (ended || broken || tooLarge) {
            return;
        }
        try {
            if (stream != null) {
                stream.accept(bytes);
                return;
            }
            int n = bytes.remaining();
            if ((long) length + n > maxBytes) {
                tooLarge = true;
                body = null;
                return;
            }
            if (length + n > body.length) {
                body = Arrays.copyOf(body, (int) Math.min(maxBytes, Math.max((long) length + n, 2L * body.length)));
            }
            bytes.duplicate().get(body, length, n);
            length += n;
        } catch (RuntimeException e) {
            // A bug here must cost the cache an entry, never the client its answer.
            broken = true;
            body = null;
        }
    }

    @Override
    public void onComplete() {
        if (ended) {
            return;
        }
        ended = true;
        if (broken) {
            result.captured(null, false);
            return;
        }
        if (stream != null) {
            byte[] json;
            try {
                json = stream.finish(usage);
            } catch (RuntimeException e) {
                json = null;
            }
            result.captured(json, stream.tooLarge());
            return;
        }
        if (tooLarge) {
            result.captured(null, true);
            return;
        }
        byte[] json = length == body.length ? body : Arrays.copyOf(body, length);
        body = null;
        result.captured(json, false);
    }

    @Override
    public void onAbort() {
        if (ended) {
            return;
        }
        ended = true;
        body = null;
        result.captured(null, false);
    }
}
