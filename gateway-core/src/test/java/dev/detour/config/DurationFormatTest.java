package dev.detour.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class DurationFormatTest {

    @Test
    void parsesEachUnit() {
        assertEquals(Duration.ofMillis(500), DurationFormat.parse("500ms"));
        assertEquals(Duration.ofSeconds(30), DurationFormat.parse("30s"));
        assertEquals(Duration.ofMinutes(5), DurationFormat.parse("5m"));
        assertEquals(Duration.ofHours(1), DurationFormat.parse("1h"));
    }

    @Test
    void addsCombinedUnits() {
        assertEquals(Duration.ofSeconds(90), DurationFormat.parse("1m30s"));
        assertEquals(Duration.ofHours(2).plusMinutes(3).plusSeconds(4).plusMillis(5),
                     DurationFormat.parse("2h3m4s5ms"));
        assertEquals(Duration.ofMillis(1500), DurationFormat.parse("1s500ms"));
    }

    @Test
    void readsZeroWithOrWithoutUnit() {
        assertEquals(Duration.ZERO, DurationFormat.parse("0"));
        assertEquals(Duration.ZERO, DurationFormat.parse("00"));
        assertEquals(Duration.ZERO, DurationFormat.parse("0s"));
        assertEquals(Duration.ZERO, DurationFormat.parse("0ms"));
    }

    @Test
    void rejectsNumberWithoutUnitAsAmbiguous() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DurationFormat.parse("30"));

        assertEquals("expected a duration with a unit, e.g. 30s or 30ms, got '30' "
                     + "(a number without a unit is ambiguous; only 0 may omit it)", e.getMessage());
    }

    @Test
    void rejectsUnitsOutOfOrderOrRepeated() {
        assertThrows(IllegalArgumentException.class, () -> DurationFormat.parse("30s1m"));
        assertThrows(IllegalArgumentException.class, () -> DurationFormat.parse("1s1s"));
        assertThrows(IllegalArgumentException.class, () -> DurationFormat.parse("1ms1s"));
    }

    @Test
    void rejectsMalformedText() {
        for (String text : new String[] {"", "s", "-5s", "1.5s", "5 s", " 5s", "5S", "5sec", "5d", "1m30", "PT5S"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                                                      () -> DurationFormat.parse(text), text);
            assertEquals("expected a duration such as 500ms, 30s, 5m, 1h or 1m30s (0 disables), got '" + text + "'",
                         e.getMessage());
        }
    }

    @Test
    void rejectsDurationsThatOverflowNanoseconds() {
        assertEquals(Duration.ofHours(2_000_000), DurationFormat.parse("2000000h"));

        assertThrows(IllegalArgumentException.class, () -> DurationFormat.parse("3000000h"));
        assertThrows(IllegalArgumentException.class, () -> DurationFormat.parse("99999999999999999999s"));
    }
}
