package dev.detour.config;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads the gateway's YAML configuration into a {@link GatewayConfig}, or fails with every problem at once.
 *
 * <p>The file is composed into SnakeYAML's node tree rather than plain maps, so every value keeps its line
 * and column and each problem can point at it. Unknown fields, wrong types, unset environment variables and
 * broken references between sections are all collected before anything is thrown:
 * <pre>{@code
 * try {
 *     GatewayConfig config = ConfigLoader.load(Path.of("config/gateway.yaml"));
 * } catch (ConfigException e) {
 *     System.err.println(e.getMessage());   // one line per problem
 * }
 * }</pre>
 * The format is described in {@code docs/configuration.md}. Thread-safe: it keeps no state.
 */
public final class ConfigLoader {

    /** Largest file accepted, in characters (and, for {@link #load(Path)}, bytes): far above any real config. */
    static final int MAX_SIZE = 4 * 1024 * 1024;
    /**
     * Aliases to collections allowed per document. Anchors are handy for sharing a target list or timeouts,
     * but each alias can multiply the tree ("billion laughs"), so a config needs only a few.
     */
    private static final int MAX_ALIASES = 50;

    private ConfigLoader() {
    }

    /**
     * Returns the configuration in {@code file}, read as UTF-8, with {@code ${VAR}} placeholders taken from
     * {@link System#getenv()}.
     *
     * @throws ConfigException when the file cannot be read or is not a valid configuration; its problems
     *                         name {@code file} as given
     */
    public static GatewayConfig load(Path file) throws ConfigException {
        Objects.requireNonNull(file, "file");
        return parse(read(file), file.toString(), System.getenv());
    }

    /**
     * Returns the configuration in {@code yaml}.
     *
     * @param yaml   the document
     * @param source the name to use in problems and {@link GatewayConfig#source()}, usually a file name
     * @param env    the environment {@code ${VAR}} placeholders are resolved against
     * @throws ConfigException listing every problem found, in file order
     */
    public static GatewayConfig parse(String yaml, String source, Map<String, String> env) throws ConfigException {
        return parse(yaml, source, env, MappingObserver.NONE);
    }

    /** Returns the configuration in {@code yaml}, telling {@code observer} of every mapping the binder reads. */
    static GatewayConfig parse(String yaml, String source, Map<String, String> env, MappingObserver observer)
            throws ConfigException {
        Objects.requireNonNull(yaml, "yaml");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(env, "env");
        Objects.requireNonNull(observer, "observer");
        Node root;
        try {
            root = newYaml().compose(new StringReader(yaml));
        } catch (MarkedYAMLException e) {
            throw new ConfigException(List.of(syntaxProblem(e, source)));
        } catch (YAMLException e) {
            // Limits (size, aliases) are reported without a position.
            throw new ConfigException(List.of(new ConfigProblem(source, 0, 0, "", "invalid YAML: " + e.getMessage())));
        }
        return new ConfigBinder(source, env, observer).bind(root);
    }

    private static Yaml newYaml() {
        LoaderOptions options = new LoaderOptions();
        options.setMaxAliasesForCollections(MAX_ALIASES);
        options.setAllowRecursiveKeys(false);
        options.setCodePointLimit(MAX_SIZE);
        // Expand "<<: *anchor" while composing, so the binder sees plain entries.
        options.setMergeOnCompose(true);
        options.setProcessComments(false);
        return new Yaml(new SafeConstructor(options));
    }

    /**
     * Returns the text of {@code file} as {@link #load(Path)} reads it: UTF-8, without a byte-order mark, at most
     * {@link #MAX_SIZE} bytes. With {@link #parse} this lets a caller keep (or hash) the exact text it loaded.
     *
     * @throws ConfigException when the file cannot be read; the problem names {@code file} as given
     */
    public static String read(Path file) throws ConfigException {
        Objects.requireNonNull(file, "file");
        String source = file.toString();
        try {
            if (Files.isDirectory(file)) {
                throw fileProblem(source, "is a directory (expected a YAML file)");
            }
            long size = Files.size(file);
            if (size > MAX_SIZE) {
                throw fileProblem(source, "file is too large (" + size + " bytes; at most " + MAX_SIZE + ")");
            }
            String text = Files.readString(file, StandardCharsets.UTF_8);
            // A byte-order mark is legal in YAML but is not content.
            return text.startsWith("\uFEFF") ? text.substring(1) : text;
        } catch (NoSuchFileException e) {
            String where = file.isAbsolute() ? "" : " (looked for " + file.toAbsolutePath() + ")";
            throw fileProblem(source, "file not found" + where);
        } catch (AccessDeniedException e) {
            throw fileProblem(source, "cannot read file: permission denied");
        } catch (MalformedInputException e) {
            throw fileProblem(source, "cannot read file: not valid UTF-8");
        } catch (IOException e) {
            throw fileProblem(source, "cannot read file: " + e);
        }
    }

    private static ConfigException fileProblem(String source, String message) {
        return new ConfigException(List.of(new ConfigProblem(source, 0, 0, "", message)));
    }

    private static ConfigProblem syntaxProblem(MarkedYAMLException e, String source) {
        Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
        String problem = e.getProblem() != null ? e.getProblem()
                : e.getContext() != null ? e.getContext()
                : String.valueOf(e.getMessage());
        // SnakeYAML phrases some problems as the second half of "expected X, but found Y".
        if (problem.startsWith("but ")) {
            problem = problem.substring("but ".length());
        }
        StringBuilder message = new StringBuilder("invalid YAML: ").append(problem);
        Mark context = e.getContextMark();
        if (e.getProblem() != null && e.getContext() != null && context != null) {
            message.append(" (").append(e.getContext()).append(" at line ").append(context.getLine() + 1)
                    .append(", column ").append(context.getColumn() + 1).append(')');
        }
        if (mark == null) {
            return new ConfigProblem(source, 0, 0, "", message.toString());
        }
        return new ConfigProblem(source, mark.getLine() + 1, mark.getColumn() + 1, "", message.toString());
    }
}
