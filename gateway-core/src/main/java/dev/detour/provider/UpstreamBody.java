package dev.detour.provider;

import java.util.Objects;

/**
 * The body an attempt sends upstream, described relative to the client's body so that the common
 * case costs no copy.
 */
public sealed interface UpstreamBody
        permits UpstreamBody.PassThrough, UpstreamBody.Splice, UpstreamBody.Splices, UpstreamBody.Replace {

    /** The client's body, byte for byte. */
    UpstreamBody PASS_THROUGH = new PassThrough();

    /** The client's body, byte for byte: a provider of the same dialect with the same model name. */
    final class PassThrough implements UpstreamBody {
        private PassThrough() {
        }

        @Override
        public String toString() {
            return "PassThrough";
        }
    }

    /**
     * The client's body with bytes {@code [start, end)} replaced by {@code replacement}: the model name
     * mapped, everything else forwarded as the same bytes.
     */
    record Splice(int start, int end, byte[] replacement) implements UpstreamBody {
        public Splice {
            Objects.requireNonNull(replacement, "replacement");
            if (start < 0 || end < start) {
                throw new IllegalArgumentException("range: [" + start + ", " + end + ") (expected: 0 <= start <= end)");
            }
        }
    }

    /** Several splices of the client's body, in ascending, non-overlapping order. */
    record Splices(java.util.List<Splice> parts) implements UpstreamBody {
        public Splices {
            parts = java.util.List.copyOf(parts);
            for (int i = 1; i < parts.size(); i++) {
                if (parts.get(i).start() < parts.get(i - 1).end()) {
                    throw new IllegalArgumentException("splices overlap or are out of order: " + parts);
                }
            }
        }
    }

    /** A new body in another dialect, produced by an adapter. */
    record Replace(byte[] bytes) implements UpstreamBody {
        public Replace {
            Objects.requireNonNull(bytes, "bytes");
        }
    }

    /**
     * Returns {@code client} with {@code edits} applied (in order, not overlapping): a new array, or
     * {@code client} itself when there is nothing to edit. For callers that need the bytes in memory; the
     * server's upstream path splices buffers instead, without a copy.
     */
    static byte[] apply(byte[] client, java.util.List<Splice> edits) {
        if (edits.isEmpty()) {
            return client;
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(client.length + 64);
        int at = 0;
        for (Splice e : edits) {
            out.write(client, at, e.start() - at);
            out.writeBytes(e.replacement());
            at = e.end();
        }
        out.write(client, at, client.length - at);
        return out.toByteArray();
    }
}
