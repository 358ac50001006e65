package dev.detour.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CacheControlTest {

    private static final long SECOND = 1_000_000_000L;
    private static final long MAX_TTL = 3600 * SECOND;

    @Test
    void readsNothingFromARequestWithoutCacheHeaders() {
        assertSame(CacheControl.NONE, parse(Map.of()));
    }

    @Test
    void readsDirectivesInAnyCaseAndOrder() {
        CacheControl c = parse(Map.of("cache-control", "No-Store, max-age=30 ,NO-CACHE"));

        assertTrue(c.noCache());
        assertTrue(c.noStore());
        assertEquals(30 * SECOND, c.maxAgeNanos());
        assertEquals(-1, c.ttlNanos());
    }

    @Test
    void readsQuotedMaxAgeAndKeepsTheSmallest() {
        assertEquals(5 * SECOND, parse(Map.of("cache-control", "max-age=\"10\", max-age=5")).maxAgeNanos());
    }

    @Test
    void readsAnInvalidMaxAgeAsZero() {
        assertEquals(0, parse(Map.of("cache-control", "max-age=soon")).maxAgeNanos());
        assertEquals(0, parse(Map.of("cache-control", "max-age")).maxAgeNanos());
        assertEquals(0, parse(Map.of("cache-control", "max-age=-3")).maxAgeNanos());
    }

    @Test
    void readsMaxAgeOnlyFromTheMaxAgeDirective() {
        assertEquals(-1, parse(Map.of("cache-control", "max-agency=5")).maxAgeNanos(),
                     "an unknown directive that starts like max-age is ignored, not read as max-age=0");
        assertEquals(7 * SECOND, parse(Map.of("cache-control", "max-age = 7")).maxAgeNanos());
    }

    @Test
    void capsAHugeMaxAge() {
        assertEquals(2_147_483_648L * SECOND, parse(Map.of("cache-control", "max-age=99999999999999")).maxAgeNanos());
    }

    @Test
    void ignoresOtherDirectives() {
        CacheControl c = parse(Map.of("cache-control", "private, only-if-cached, no-transform"));

        assertFalse(c.noCache());
        assertFalse(c.noStore());
        assertEquals(-1, c.maxAgeNanos());
    }

    @Test
    void readsTtlAsSecondsOrDuration() {
        assertEquals(90 * SECOND, parse(Map.of("x-detour-cache-ttl", "90")).ttlNanos());
        assertEquals(300 * SECOND, parse(Map.of("x-detour-cache-ttl", " 5m ")).ttlNanos());
        assertEquals(1500_000_000L, parse(Map.of("x-detour-cache-ttl", "1s500ms")).ttlNanos());
    }

    @Test
    void capsTtlAtTheMaximum() {
        assertEquals(MAX_TTL, parse(Map.of("x-detour-cache-ttl", "48h")).ttlNanos());
        assertEquals(MAX_TTL, parse(Map.of("x-detour-cache-ttl", "99999999999999999999")).ttlNanos());
    }

    @Test
    void refusesABadTtlNamingTheHeader() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                                                  () -> parse(Map.of("x-detour-cache-ttl", "soon")));
        assertTrue(e.getMessage().contains("x-detour-cache-ttl") && e.getMessage().contains("'soon'"), e.getMessage());

        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                                                     () -> parse(Map.of("x-detour-cache-ttl", "0")));
        assertTrue(zero.getMessage().contains("no-store"), zero.getMessage());
        assertThrows(IllegalArgumentException.class, () -> parse(Map.of("x-detour-cache-ttl", "")));
        assertThrows(IllegalArgumentException.class, () -> parse(Map.of("x-detour-cache-ttl", "-5")));
    }

    private static CacheControl parse(Map<String, String> headers) {
        return CacheControl.of(name -> headers.get(name.toString().toLowerCase(Locale.ROOT)), MAX_TTL);
    }
}
