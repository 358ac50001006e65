package dev.detour.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SizeFormatTest {

    @Test
    void readsBinaryUnitsAsPowersOf1024() {
        assertEquals(512L * 1024, SizeFormat.parse("512KiB"));
        assertEquals(16L * 1024 * 1024, SizeFormat.parse("16MiB"));
        assertEquals(1024L * 1024 * 1024, SizeFormat.parse("1GiB"));
    }

    @Test
    void readsDecimalUnitsAsPowersOf1000() {
        assertEquals(2_000, SizeFormat.parse("2KB"));
        assertEquals(3_000_000, SizeFormat.parse("3MB"));
        assertEquals(1_000_000_000, SizeFormat.parse("1GB"));
    }

    @Test
    void readsBytes() {
        assertEquals(100, SizeFormat.parse("100B"));
        assertEquals(100, SizeFormat.parse("100"));
        assertEquals(0, SizeFormat.parse("0"));
        assertEquals(16L * 1024, SizeFormat.parse("16 KiB"));
    }

    @Test
    void rejectsUnknownOrMiscasedUnits() {
        for (String text : new String[] {"", "MiB", "16mib", "16Mb", "16kb", "16K", "1TB", "-1", "1.5MiB", "16  MiB"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SizeFormat.parse(text),
                                                      text);
            assertEquals("expected a size such as 16MiB, 512KiB, 1GiB, 100B or a number of bytes, got '" + text + "'",
                         e.getMessage());
        }
    }

    @Test
    void rejectsSizesThatOverflowLong() {
        assertThrows(IllegalArgumentException.class, () -> SizeFormat.parse("9999999999GiB"));
        assertThrows(IllegalArgumentException.class, () -> SizeFormat.parse("99999999999999999999"));
    }
}
