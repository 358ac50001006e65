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
 * Names and values are {@link CharSequence}s so that a transport can hand its own (e.g. Netty's
 * {@code AsciiString} names, hashed once and written as bytes) through without turning each into a
 * {@code String} and back; {@link #name} and {@link #value} return strings for everyone else.
 */
public final class Headers {

    private static final Headers EMPTY = new Headers(new CharSequence[0]);

    private final CharSequence[] pairs;

    private Headers(CharSequence[] pairs) {
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
        return new Headers(Arrays.copyOf(namesAndValues, namesAndValues.length, CharSequence[].class));
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
        return pairs[2 * i].toString();
    }

    /** Returns the value of pair {@code i}. */
    public String value(int i) {
        return pairs[2 * i + 1].toString();
    }

    /** Returns the name of pair {@code i} as it was added, for a transport that writes it as is. */
    public CharSequence rawName(int i) {
        return pairs[2 * i];
    }

    /** Returns the value of pair {@code i} as it was added, for a transport that writes it as is. */
    public CharSequence rawValue(int i) {
        return pairs[2 * i + 1];
    }

    /** Returns the first value of {@code name}, ignoring case, or {@code null}. */
    public String get(String name) {
        for (int i = 0; i < pairs.length; i += 2) {
            if (equalsIgnoreCase(pairs[i], name)) {
                return pairs[i + 1].toString();
            }
        }
        return null;
    }

    private static boolean equalsIgnoreCase(CharSequence a, String b) {
        if (a instanceof String s) {
            return s.equalsIgnoreCase(b);
        }
        int n = a.length();
        if (n != b.length()) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char x = a.charAt(i);
            char y = b.charAt(i);
            if (x != y && Character.toLowerCase(x) != Character.toLowerCase(y)) {
                return false;
            }
        }
        return true;
    }

    /** Returns a copy with {@code name: value} appended. */
    public Headers with(String name, String value) {
        CharSequence[] copy = Arrays.copyOf(pairs, pairs.length + 2);
        copy[pairs.length] = Objects.requireNonNull(name, "name");
        copy[pairs.length + 1] = Objects.requireNonNull(value, "value");
        return new Headers(copy);
    }

    /** Returns a copy without the headers whose lower-case name starts with {@code prefix} (lower case). */
    public Headers withoutPrefix(String prefix) {
        List<CharSequence> kept = null;
        for (int i = 0; i < pairs.length; i += 2) {
            boolean drop = pairs[i].toString().regionMatches(true, 0, prefix, 0, prefix.length());
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
        return kept == null ? this : kept.isEmpty() ? EMPTY : new Headers(kept.toArray(new CharSequence[0]));
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Headers[");
        for (int i = 0; i < pairs.length; i += 2) {
            if (i > 0) {
                sb.append(", ");
            }
            String name = pairs[i].toString().toLowerCase(Locale.ROOT);
            boolean secret = name.contains("authorization") || name.contains("key") || name.contains("cookie")
                             || name.contains("token") || name.contains("security") || name.contains("signature");
            sb.append(pairs[i]).append('=').append(secret ? "<redacted>" : pairs[i + 1]);
        }
        return sb.append(']').toString();
    }

    /** Builds {@link Headers}; not thread-safe. */
    public static final class Builder {
        private final List<CharSequence> pairs = new ArrayList<>(16);

        private Builder() {
        }

        /** Appends {@code name: value}. */
        public Builder add(String name, String value) {
            pairs.add(Objects.requireNonNull(name, "name"));
            pairs.add(Objects.requireNonNull(value, "value"));
            return this;
        }

        /**
         * Appends {@code name: value} as given, for a transport handing its own header objects through; both
         * must be immutable.
         */
        public Builder addRaw(CharSequence name, CharSequence value) {
            pairs.add(Objects.requireNonNull(name, "name"));
            pairs.add(Objects.requireNonNull(value, "value"));
            return this;
        }

        /** Returns the headers added so far. */
        public Headers build() {
            return pairs.isEmpty() ? EMPTY : new Headers(pairs.toArray(new CharSequence[0]));
        }
    }
}
