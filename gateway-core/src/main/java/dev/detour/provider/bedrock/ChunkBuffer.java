package dev.detour.provider.bedrock;

import dev.detour.provider.ByteSink;
import java.io.ByteArrayOutputStream;

/** A reusable output buffer that hands its bytes to a {@link ByteSink} without copying them. Not thread-safe. */
final class ChunkBuffer extends ByteArrayOutputStream {

    ChunkBuffer(int size) {
        super(size);
    }

    /** Writes what was buffered to {@code sink}, then empties the buffer. */
    void drainTo(ByteSink sink) {
        sink.write(buf, 0, count);
        reset();
    }
}
