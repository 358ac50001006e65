package dev.detour.filter;

/**
 * A read-only view of the client's request headers, owned by the server.
 */
@FunctionalInterface
public interface RequestHeaders {

    /** Returns the first value of {@code name} (case-insensitive), or {@code null}. */
    String get(CharSequence name);
}
