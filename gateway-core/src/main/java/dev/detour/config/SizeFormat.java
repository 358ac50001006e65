package dev.detour.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses byte sizes: a plain number of bytes, or a number and a unit, e.g. {@code 16MiB} or {@code 512 KiB}.
 *
 * <p>{@code KiB}, {@code MiB} and {@code GiB} are powers of 1024; {@code KB}, {@code MB} and {@code GB} are
 * powers of 1000, as on disk labels; {@code B} is bytes. Units are case-sensitive because {@code Mb} is
 * commonly megabits, and a size off by a factor of eight is worse than a startup error.
 */
final class SizeFormat {

    private static final Pattern SIZE = Pattern.compile("([0-9]+) ?(B|KB|MB|GB|KiB|MiB|GiB)?");

    private SizeFormat() {
    }

    /**
     * Returns the number of bytes {@code text} stands for.
     *
     * @throws IllegalArgumentException with a message naming the expectation and {@code text}
     */
    static long parse(String text) {
        Matcher matcher = SIZE.matcher(text);
        if (!matcher.matches()) {
            throw new IllegalArgumentException(
                    "expected a size such as 16MiB, 512KiB, 1GiB, 100B or a number of bytes, got '" + text + "'");
        }
        try {
            long amount = Long.parseLong(matcher.group(1));
            String unit = matcher.group(2);
            return Math.multiplyExact(amount, unit == null ? 1 : multiplier(unit));
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("expected a size of at most " + Long.MAX_VALUE
                                               + " bytes, got '" + text + "'", e);
        }
    }

    private static long multiplier(String unit) {
        return switch (unit) {
            case "B" -> 1L;
            case "KB" -> 1000L;
            case "MB" -> 1000L * 1000;
            case "GB" -> 1000L * 1000 * 1000;
            case "KiB" -> 1024L;
            case "MiB" -> 1024L * 1024;
            case "GiB" -> 1024L * 1024 * 1024;
            default -> throw new IllegalArgumentException("unit: " + unit);
        };
    }
}
