package dev.detour.cache;

import dev.detour.config.DurationFormat;
import dev.detour.filter.RequestHeaders;
import java.time.Duration;
import java.util.Locale;

/**
 * What a request asks of the cache: {@code Cache-Control: no-cache} (do not look up; the fresh answer is
 * still stored), {@code no-store} (do not store), {@code max-age=N} (accept only entries at most N seconds
 * old), and {@code x-detour-cache-ttl} (how long to keep the answer, within {@code cache.max-ttl}).
 *
 * <p>Other {@code Cache-Control} directives are ignored. A {@code max-age} that is not a number is read as
 * 0 (nothing cached is fresh enough), as HTTP caches do; a bad {@code x-detour-cache-ttl} is refused, since
 * the client meant to set something.
 *
 * @param noCache  skip the lookup
 * @param noStore  do not store the answer
 * @param maxAgeNanos the oldest acceptable entry, or -1 for no limit
 * @param ttlNanos the ttl the request asks for (already capped), or -1 for the route's
 */
record CacheControl(boolean noCache, boolean noStore, long maxAgeNanos, long ttlNanos) {

    /** The request header naming a ttl for the stored answer. */
    static final String TTL_HEADER = "x-detour-cache-ttl";

    /** A request without cache headers. */
    static final CacheControl NONE = new CacheControl(false, false, -1, -1);

    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    /** What RFC 9111 says to use for a delta-seconds value too large to represent. */
    private static final long MAX_DELTA_SECONDS = 2_147_483_648L;

    /**
     * Reads the cache headers of a request.
     *
     * @param maxTtlNanos the cap on {@code x-detour-cache-ttl}
     * @throws IllegalArgumentException if {@code x-detour-cache-ttl} is not a positive duration; the message
     *                                  is fit for the client
     */
    static CacheControl of(RequestHeaders headers, long maxTtlNanos) {
        String cc = headers.get("cache-control");
        String ttl = headers.get(TTL_HEADER);
        if (cc == null && ttl == null) {
            return NONE;
        }
        boolean noCache = false;
        boolean noStore = false;
        long maxAge = -1;
        if (cc != null) {
            for (String part : cc.split(",")) {
                String directive = part.trim().toLowerCase(Locale.ROOT);
                if (directive.equals("no-cache")) {
                    noCache = true;
                } else if (directive.equals("no-store")) {
                    noStore = true;
                } else if (isMaxAge(directive)) {
                    long seconds = deltaSeconds(directive.substring("max-age".length()));
                    maxAge = maxAge < 0 ? seconds : Math.min(maxAge, seconds);
                }
            }
        }
        long maxAgeNanos = maxAge < 0 ? -1 : maxAge * NANOS_PER_SECOND;
        return new CacheControl(noCache, noStore, maxAgeNanos, ttl == null ? -1 : ttl(ttl.trim(), maxTtlNanos));
    }

    /** Returns whether {@code directive} is {@code max-age} itself, not another directive that starts so. */
    private static boolean isMaxAge(String directive) {
        if (!directive.startsWith("max-age")) {
            return false;
        }
        int n = "max-age".length();
        return directive.length() == n || directive.charAt(n) == '=' || Character.isWhitespace(directive.charAt(n));
    }

    /** Returns the seconds of {@code =N} (quotes allowed); anything else reads as 0. */
    private static long deltaSeconds(String rest) {
        String v = rest.trim();
        if (!v.startsWith("=")) {
            return 0;
        }
        v = v.substring(1).trim();
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
            v = v.substring(1, v.length() - 1);
        }
        if (v.isEmpty() || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return 0;
        }
        if (v.length() > 10) {
            return MAX_DELTA_SECONDS;
        }
        return Math.min(Long.parseLong(v), MAX_DELTA_SECONDS);
    }

    private static long ttl(String text, long maxTtlNanos) {
        Duration d;
        try {
            if (!text.isEmpty() && text.chars().allMatch(c -> c >= '0' && c <= '9')) {
                d = text.length() > 12 ? Duration.ofNanos(Long.MAX_VALUE) : Duration.ofSeconds(Long.parseLong(text));
            } else {
                d = DurationFormat.parse(text);
            }
        } catch (IllegalArgumentException e) {
            throw badTtl(text);
        }
        if (d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException("Header " + TTL_HEADER + ": " + shown(text) + " is not above zero. "
                    + "Send a number of seconds such as 90, or a duration such as 5m; to keep the answer out of "
                    + "the cache, send 'Cache-Control: no-store'.");
        }
        long nanos = d.compareTo(Duration.ofNanos(Long.MAX_VALUE)) >= 0 ? Long.MAX_VALUE : d.toNanos();
        return Math.min(nanos, maxTtlNanos);
    }

    private static IllegalArgumentException badTtl(String text) {
        return new IllegalArgumentException("Header " + TTL_HEADER + ": " + shown(text) + " is not a duration. "
                + "Send a number of seconds such as 90, or a duration such as 5m or 1h.");
    }

    private static String shown(String text) {
        String t = text.length() > 40 ? text.substring(0, 37) + "..." : text;
        return "'" + t + "'";
    }
}
