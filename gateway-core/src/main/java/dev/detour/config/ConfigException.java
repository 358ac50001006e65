package dev.detour.config;

import java.util.List;

/**
 * Thrown when a configuration cannot be used; carries every problem found, not only the first.
 *
 * <p>The message is ready to print as it is:
 * <pre>{@code
 * invalid configuration (2 problems):
 *   config/gateway.yaml:3:9 server.port: expected an integer from 0 to 65535, got 'abc'
 *   config/gateway.yaml:14:19 routes[0].targets[0].provider: unknown provider 'opneai' (known: openai, mock)
 * }</pre>
 */
public final class ConfigException extends Exception {

    private static final long serialVersionUID = 1L;

    private final List<ConfigProblem> problems;

    /** Creates an exception listing {@code problems}, which must not be empty. */
    public ConfigException(List<ConfigProblem> problems) {
        super(describe(problems));
        this.problems = List.copyOf(problems);
    }

    /** Returns the problems in the order they appear in the file. */
    public List<ConfigProblem> problems() {
        return problems;
    }

    private static String describe(List<ConfigProblem> problems) {
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("problems: empty (expected: at least one)");
        }
        StringBuilder out = new StringBuilder("invalid configuration (")
                .append(problems.size())
                .append(problems.size() == 1 ? " problem):" : " problems):");
        for (ConfigProblem problem : problems) {
            out.append("\n  ").append(problem);
        }
        return out.toString();
    }
}
