package dev.detour.filter;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * An immutable list of HTTP header name/value pairs, in order. Names keep their case; lookups ignore it.
 *
 * <p>Kept as one flat array because responses carry a handful of headers and are built on the hot path.
 */
public final class Headers {

    private static final Headers EMPTY = new Headers(new String[0]);

    private final String[] pairs;

    private Headers(String[] pairs) {
        this.pairs = pairs;
    }

    /** Returns no headers. */
    public static Headers empty() {
        return EMPTY;
    }

    /** Returns headers from alternating names and values. */
    public static Headers of(String... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("namesAndValues: odd length " + namesAndValues.length);
        }
        for (String s : namesAndValues) {
            Objects.requireNonNull(s, "header name or value");
        }
        return new Headers(namesAndValues.clone());
    }

    /** Returns a new builder. */
    public static Builder builder() {
        return new Builder();
    }

    /** Returns how many pairs there are. */
    public int size() {
        return pairs.length / 2;
    }

    /** Returns the name of pair {@code i}. */
    public String name(int i) {
        return pairs[2 * i];
    }

    /** Returns the value of pair {@code i}. */
    public String value(int i) {
        return pairs[2 * i + 1];
    }

    /** Returns the first value of {@code name}, ignoring case, or {@code null}. */
    public String get(String name) {
        for (int i = 0; i < pairs.length; i += 2) {
            if (pairs[i].equalsIgnoreCase(name)) {
                return pairs[i + 1];
            }
        }
        return null;
    }

    /** Returns a copy with {@code name: value} appended. */
    public Headers with(String name, String value) {
        String[] copy = Arrays.copyOf(pairs, pairs.length + 2);
        copy[pairs.length] = Objects.requireNonNull(name, "name");
        copy[pairs.length + 1] = Objects.requireNonNull(value, "value");
        return new Headers(copy);
    }

    /** Returns a copy without the headers whose lower-case name starts with {@code prefix} (lower case). */
    public Headers withoutPrefix(String prefix) {
        List<String> kept = null;
        for (int i = 0; i < pairs.length; i += 2) {
            boolean drop = pairs[i].regionMatches(true, 0, prefix, 0, prefix.length());
            if (drop && kept == null) {
                kept = new ArrayList<>(pairs.length);
                for (int j = 0; j < i; j++) {
                    kept.add(pairs[j]);
                }
            } else if (!drop && kept != null) {
                kept.add(pairs[i]);
                kept.add(pairs[i + 1]);
            }
        }
        return kept == null ? this : kept.isEmpty() ? EMPTY : new Headers(kept.toArray(new String[0]));
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Headers[");
        for (int i = 0; i < pairs.length; i += 2) {
            if (i > 0) {
                sb.append(", ");
            }
            String name = pairs[i].toLowerCase(Locale.ROOT);
            boolean secret = name.contains("authorization") || name.contains("key") || name.contains("cookie")
                             || name.contains("token") || name.contains("security") || name.contains("signature");
            sb.append(pairs[i]).append('=').append(secret ? "<redacted>" : pairs[i + 1]);
        }
        return sb.append(']').toString();
    }

    /** Builds {@link Headers}; not thread-safe. */
    public static final class Builder {
        private final List<String> pairs = new ArrayList<>(16);

        private Builder() {
        }

        /** Appends {@code name: value}. */
        public Builder add(String name, String value) {
            pairs.add(Objects.requireNonNull(name, "name"));
            pairs.add(Objects.requireNonNull(value, "value"));
            return this;
        }

        /** Returns the headers added so far. */
        public Headers build() {
            return pairs.isEmpty() ? EMPTY : new Headers(pairs.toArray(new String[0]));
        }
    }
}
