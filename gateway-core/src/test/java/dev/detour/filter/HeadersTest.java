package dev.detour.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

class HeadersTest {

    @Test
    void dropsHeadersByPrefixIgnoringCase() {
        Headers h = Headers.of("content-type", "application/json", "X-RateLimit-Remaining-Requests", "4",
                               "x-ratelimit-reset-requests", "1s", "retry-after", "2");

        Headers without = h.withoutPrefix("x-ratelimit-");

        assertEquals(2, without.size());
        assertEquals("application/json", without.get("content-type"));
        assertEquals("2", without.get("retry-after"));
        assertNull(without.get("x-ratelimit-reset-requests"));
        assertSame(without, without.withoutPrefix("x-ratelimit-"), "nothing to drop: the same headers");
    }

    @Test
    void redactsSecretsWhenPrinted() {
        Headers h = Headers.of("authorization", "Bearer sk-1234567890", "x-amz-security-token", "tok", "accept", "*/*");

        String printed = h.toString();

        assertEquals("Headers[authorization=<redacted>, x-amz-security-token=<redacted>, accept=*/*]", printed);
    }
}
