package dev.detour.server.reload;

import dev.detour.config.ConfigException;
import dev.detour.config.ConfigLoader;
import dev.detour.config.GatewayConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * The config file a gateway was started from, with the command-line overrides (such as {@code --port}) that
 * apply to every version read from it, so that a reload sees the file as the start did.
 *
 * <p>Immutable and thread-safe; each {@link #load()} reads the file again.
 */
public final class ConfigSource {

    private final Path file;
    private final UnaryOperator<GatewayConfig> overrides;

    private ConfigSource(Path file, UnaryOperator<GatewayConfig> overrides) {
        this.file = Objects.requireNonNull(file, "file");
        this.overrides = Objects.requireNonNull(overrides, "overrides");
    }

    /** Returns the source {@code file}, each version of which is passed through {@code overrides}. */
    public static ConfigSource of(Path file, UnaryOperator<GatewayConfig> overrides) {
        return new ConfigSource(file, overrides);
    }

    /** Returns the source {@code file} without overrides. */
    public static ConfigSource of(Path file) {
        return new ConfigSource(file, UnaryOperator.identity());
    }

    /** Returns the file as given. */
    public Path file() {
        return file;
    }

    /**
     * Reads, hashes and binds the file, environment variables included, then applies the overrides.
     *
     * @throws ConfigException with every problem, each naming the file, line, column and field
     */
    public Loaded load() throws ConfigException {
        return bind(read());
    }

    /**
     * Reads and hashes the file without binding it, so that a caller can tell whether anything changed first.
     *
     * @throws ConfigException when the file cannot be read
     */
    public Text read() throws ConfigException {
        String text = ConfigLoader.read(file);
        return new Text(text, sha256(text));
    }

    /**
     * Binds {@code text}, read from this source, and applies the overrides.
     *
     * @throws ConfigException with every problem, each naming the file, line, column and field
     */
    public Loaded bind(Text text) throws ConfigException {
        GatewayConfig config = ConfigLoader.parse(text.content(), file.toString(), System.getenv());
        return new Loaded(overrides.apply(config), text.sha256());
    }

    @Override
    public String toString() {
        return file.toString();
    }

    private static String sha256(String text) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(digest.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /**
     * The text of the file as read once, and its hash. It may hold secrets: it never prints its content.
     *
     * @param content the text
     * @param sha256  lowercase hex SHA-256 of the text's UTF-8 bytes
     */
    public record Text(String content, String sha256) {

        public Text {
            Objects.requireNonNull(content, "content");
            Objects.requireNonNull(sha256, "sha256");
        }

        @Override
        public String toString() {
            return "Text[sha256=" + sha256 + ", " + content.length() + " chars]";
        }
    }

    /**
     * One version read from the file.
     *
     * @param config the bound config, overrides applied
     * @param sha256 lowercase hex SHA-256 of the text it was bound from
     */
    public record Loaded(GatewayConfig config, String sha256) {

        public Loaded {
            Objects.requireNonNull(config, "config");
            Objects.requireNonNull(sha256, "sha256");
        }
    }
}
