package dev.detour.provider;

/**
 * Where a {@link ResponseTranslator} writes translated bytes. Implemented by the server over a buffer
 * that is flushed to the client after each upstream chunk.
 */
@FunctionalInterface
public interface ByteSink {

    /** Appends {@code len} bytes of {@code bytes} from {@code offset}. */
    void write(byte[] bytes, int offset, int len);

    /** Appends all of {@code bytes}. */
    default void write(byte[] bytes) {
        write(bytes, 0, bytes.length);
    }
}
