package dev.detour.config;

import java.util.Objects;

/**
 * One thing wrong with a configuration file, with where it is.
 *
 * <p>{@link #toString()} reads like a compiler diagnostic, so editors and terminals can jump to it:
 * <pre>{@code
 * config/gateway.yaml:14:7 routes[0].targets[1].provider: unknown provider 'opneai' (known: openai, mock)
 * }</pre>
 *
 * @param source  the file name as given to the loader, or the {@code source} passed to
 *                {@link ConfigLoader#parse(String, String, java.util.Map)}
 * @param line    1-based line; {@code 0} when the problem concerns the file as a whole (it cannot be read)
 * @param column  1-based column; {@code 0} together with {@code line}
 * @param path    the setting concerned, e.g. {@code server.port} or {@code routes[0].model}; empty for the
 *                document itself
 * @param message what is wrong, naming the bad value and what was expected
 */
public record ConfigProblem(String source, int line, int column, String path, String message) {

    public ConfigProblem {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(message, "message");
        if (line < 0 || column < 0) {
            throw new IllegalArgumentException("line:column " + line + ":" + column + " (expected: >= 0)");
        }
    }

    /** Returns {@code source:line:column path: message}, leaving out the position or path when there is none. */
    @Override
    public String toString() {
        StringBuilder out = new StringBuilder(source);
        if (line > 0) {
            out.append(':').append(line).append(':').append(column);
        }
        if (!path.isEmpty()) {
            out.append(' ').append(path);
        }
        return out.append(": ").append(message).toString();
    }
}
