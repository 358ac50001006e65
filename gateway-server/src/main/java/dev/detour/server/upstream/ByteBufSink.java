package dev.detour.server.upstream;

import dev.detour.provider.ByteSink;
import io.netty.buffer.ByteBuf;

/**
 * A {@link ByteSink} that appends to a buffer the caller owns.
 */
final class ByteBufSink implements ByteSink {

    private final ByteBuf out;

    ByteBufSink(ByteBuf out) {
        this.out = out;
    }

    @Override
    public void write(byte[] bytes, int offset, int len) {
        out.writeBytes(bytes, offset, len);
    }
}
