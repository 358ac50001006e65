package dev.detour.filter;

import java.util.Objects;

/**
 * A typed identity key for per-request state in a {@link RequestContext}.
 *
 * <p>Keys compare by identity: declare each once, as a {@code static final} constant of the feature
 * that owns it.
 *
 * @param <T> the type of the value stored under this key
 */
public final class AttributeKey<T> {

    private final String name;

    private AttributeKey(String name) {
        this.name = name;
    }

    /** Returns a new key; {@code name} is only for debugging. */
    public static <T> AttributeKey<T> newKey(String name) {
        return new AttributeKey<>(Objects.requireNonNull(name, "name"));
    }

    @Override
    public String toString() {
        return "AttributeKey[" + name + "]";
    }
}
