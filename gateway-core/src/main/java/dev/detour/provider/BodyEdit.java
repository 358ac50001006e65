package dev.detour.provider;

import java.util.Objects;

/**
 * A splice applied to the client's body on its way upstream: bytes {@code [start, end)} are replaced
 * by {@code replacement}. Everything else is forwarded as the same bytes, never re-serialised.
 *
 * @param start       first byte replaced
 * @param end         first byte kept after the replaced range
 * @param replacement the bytes sent instead
 */
public record BodyEdit(int start, int end, byte[] replacement) {

    public BodyEdit {
        Objects.requireNonNull(replacement, "replacement");
        if (start < 0 || end < start) {
            throw new IllegalArgumentException("range: [" + start + ", " + end + ") (expected: 0 <= start <= end)");
        }
    }
}
