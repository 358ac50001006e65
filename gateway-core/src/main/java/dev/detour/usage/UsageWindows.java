package dev.detour.usage;

import dev.detour.config.BudgetConfig;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.Objects;

/**
 * The UTC calendar windows that usage counts in at one moment: the day and the month, with when each ends.
 *
 * @param day       the UTC day
 * @param month     the UTC month
 * @param dayEnds   the start of the next day, 00:00 UTC
 * @param monthEnds the start of the next month, 00:00 UTC on its first day
 */
public record UsageWindows(LocalDate day, YearMonth month, Instant dayEnds, Instant monthEnds) {

    private static final long SECONDS_PER_DAY = 86_400L;

    public UsageWindows {
        Objects.requireNonNull(day, "day");
        Objects.requireNonNull(month, "month");
        Objects.requireNonNull(dayEnds, "dayEnds");
        Objects.requireNonNull(monthEnds, "monthEnds");
    }

    /** Returns the windows that {@code now} falls in. */
    public static UsageWindows at(Instant now) {
        LocalDate day = LocalDate.ofEpochDay(Math.floorDiv(now.getEpochSecond(), SECONDS_PER_DAY));
        YearMonth month = YearMonth.from(day);
        return new UsageWindows(day, month, day.plusDays(1).atStartOfDay().toInstant(ZoneOffset.UTC),
                                month.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC));
    }

    /** Returns whether {@code epochSecond} falls in {@link #day()}. */
    public boolean contains(long epochSecond) {
        long start = day.toEpochDay() * SECONDS_PER_DAY;
        return epochSecond >= start && epochSecond < start + SECONDS_PER_DAY;
    }

    /** Returns when the window of {@code period} ends: the next day's or the next month's start. */
    public Instant endOf(BudgetConfig.Period period) {
        return period == BudgetConfig.Period.DAY ? dayEnds : monthEnds;
    }

    /** Returns the identity of the day window: the epoch day. */
    long dayId() {
        return day.toEpochDay();
    }

    /** Returns the identity of the month window: year × 12 + month − 1. */
    long monthId() {
        return monthId(month);
    }

    /** Returns the identity of {@code period}'s window. */
    long id(BudgetConfig.Period period) {
        return period == BudgetConfig.Period.DAY ? dayId() : monthId();
    }

    static long monthId(YearMonth month) {
        return month.getYear() * 12L + month.getMonthValue() - 1;
    }
}
