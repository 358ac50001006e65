package dev.detour.config;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * Parses durations written as {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h} or combined, {@code 1m30s}.
 *
 * <p>Units go from largest to smallest, each at most once. A bare {@code 0} means zero (callers treat zero as
 * "disabled"); any other number without a unit is refused, because {@code 30} could mean seconds or
 * milliseconds and guessing wrong is a silent 1000x error. Durations whose nanoseconds do not fit a
 * {@code long} (about 292 years) are refused, so {@link Duration#toNanos()} is always safe on the result.
 */
public final class DurationFormat {

    private static final Pattern DIGITS = Pattern.compile("[0-9]+");
    private static final String EXPECTED = "expected a duration such as 500ms, 30s, 5m, 1h or 1m30s (0 disables)";
    private static final String[] UNITS = {"h", "m", "s", "ms"};

    private DurationFormat() {
    }

    /**
     * Returns the duration {@code text} stands for.
     *
     * @throws IllegalArgumentException with a message naming the expectation and {@code text}
     */
    public static Duration parse(String text) {
        if (text.isEmpty()) {
            throw invalid(text);
        }
        if (DIGITS.matcher(text).matches()) {
            if (isZero(text)) {
                return Duration.ZERO;
            }
            throw new IllegalArgumentException(
                    "expected a duration with a unit, e.g. " + text + "s or " + text + "ms, got '" + text
                    + "' (a number without a unit is ambiguous; only 0 may omit it)");
        }
        Duration total = Duration.ZERO;
        int lastUnit = -1;
        int i = 0;
        try {
            while (i < text.length()) {
                int start = i;
                while (i < text.length() && text.charAt(i) >= '0' && text.charAt(i) <= '9') {
                    i++;
                }
                if (i == start) {
                    throw invalid(text);
                }
                long amount = Long.parseLong(text.substring(start, i));
                int unit = unitAt(text, i);
                if (unit <= lastUnit) {
                    throw invalid(text);
                }
                lastUnit = unit;
                i += UNITS[unit].length();
                total = total.plus(of(amount, unit));
            }
            total.toNanos();
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException(EXPECTED + " of at most 292 years, got '" + text + "'", e);
        }
        return total;
    }

    private static boolean isZero(String digits) {
        for (int i = 0; i < digits.length(); i++) {
            if (digits.charAt(i) != '0') {
                return false;
            }
        }
        return true;
    }

    /** Returns the index into {@link #UNITS} of the unit at {@code i}, or throws. */
    private static int unitAt(String text, int i) {
        // "ms" before "m": otherwise 500ms would read as 500 minutes followed by junk.
        if (text.startsWith("ms", i)) {
            return 3;
        }
        if (text.startsWith("h", i)) {
            return 0;
        }
        if (text.startsWith("m", i)) {
            return 1;
        }
        if (text.startsWith("s", i)) {
            return 2;
        }
        throw invalid(text);
    }

    private static Duration of(long amount, int unit) {
        return switch (unit) {
            case 0 -> Duration.ofHours(amount);
            case 1 -> Duration.ofMinutes(amount);
            case 2 -> Duration.ofSeconds(amount);
            default -> Duration.ofMillis(amount);
        };
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException(EXPECTED + ", got '" + text + "'");
    }
}
