package dev.detour.server.inbound;

import dev.detour.filter.RequestBody;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.InputStream;

/**
 * Lends core a read-only view of the aggregated body; the inbound handler keeps the buffer.
 */
final class ByteBufRequestBody implements RequestBody {

    private final ByteBuf content;

    ByteBufRequestBody(ByteBuf content) {
        this.content = content;
    }

    @Override
    public int length() {
        return content.readableBytes();
    }

    @Override
    public InputStream newInputStream() {
        return new ByteBufInputStream(content.duplicate());
    }
}
