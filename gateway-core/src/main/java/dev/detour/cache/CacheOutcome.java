package dev.detour.cache;

/**
 * What the response cache did with a request; the value of the {@code x-detour-cache} response header.
 */
public enum CacheOutcome {
    /** Answered from the cache, without an upstream call. */
    HIT,
    /** Looked up and not found (or too old): answered by the upstream, and stored if possible. */
    MISS,
    /** Not looked up: {@code Cache-Control: no-cache}, or a request the cache cannot serve. */
    BYPASS,
    /** Answered with an entry past its ttl because every target of the route was exhausted or failing. */
    STALE
}
