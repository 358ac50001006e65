package dev.detour.filter;

import java.io.InputStream;

/**
 * A read-only view of a request body that the server owns.
 *
 * <p>Valid only while the request is in flight; do not keep a reference past the response.
 */
public interface RequestBody {

    /** Returns the length in bytes. */
    int length();

    /** Returns a new stream over the whole body, starting at its first byte. */
    InputStream newInputStream();
}
