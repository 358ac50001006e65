package dev.detour.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Replaces {@code ${NAME}} and {@code ${NAME:-default}} in a scalar with environment variables.
 *
 * <p>Rules, the same as a POSIX shell's for these two forms: {@code ${NAME:-default}} takes the default when
 * the variable is unset or empty; a reference may sit anywhere in a longer string and a string may hold
 * several; {@code $${} is a literal {@code ${}; any other {@code $} is kept as it is. Substituted text is
 * not scanned again, so a variable's value cannot inject another reference. A default runs to the first
 * {@code }} and cannot itself contain a reference.
 */
final class EnvSubstitution {

    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private EnvSubstitution() {
    }

    /**
     * Returns {@code text} with every reference replaced, and a message for each reference that could not be.
     *
     * @param text the scalar as written in the file
     * @param env  the environment to read, e.g. {@link System#getenv()}
     */
    static Result apply(String text, Map<String, String> env) {
        if (text.indexOf('$') < 0) {
            return new Result(text, List.of());
        }
        StringBuilder out = new StringBuilder(text.length());
        List<String> errors = new ArrayList<>(0);
        int i = 0;
        while (i < text.length()) {
            if (text.startsWith("$${", i)) {
                out.append("${");
                i += 3;
                continue;
            }
            if (!text.startsWith("${", i)) {
                out.append(text.charAt(i));
                i++;
                continue;
            }
            int end = text.indexOf('}', i + 2);
            if (end < 0) {
                errors.add("unterminated '${' at character " + (i + 1) + " (expected '}' to close it; "
                           + "write '$${' for a literal '${')");
                out.append(text, i, text.length());
                break;
            }
            String body = text.substring(i + 2, end);
            int separator = body.indexOf(":-");
            String name = separator < 0 ? body : body.substring(0, separator);
            String fallback = separator < 0 ? null : body.substring(separator + 2);
            if (!NAME.matcher(name).matches()) {
                errors.add("invalid environment variable reference '${" + body
                           + "}' (expected ${NAME} or ${NAME:-default}; write '$${' for a literal '${')");
            } else {
                String value = env.get(name);
                if (fallback != null && (value == null || value.isEmpty())) {
                    out.append(fallback);
                } else if (value == null) {
                    errors.add("environment variable " + name + " is not set");
                } else {
                    out.append(value);
                }
            }
            i = end + 1;
        }
        return new Result(out.toString(), List.copyOf(errors));
    }

    /**
     * The outcome of a substitution.
     *
     * @param value  the text with every resolvable reference replaced
     * @param errors one message per reference that could not be resolved; empty on success
     */
    record Result(String value, List<String> errors) {

        boolean ok() {
            return errors.isEmpty();
        }
    }
}
