/**
 * Token-bucket rate limiting: requests and LLM tokens per interval, per client, team, route, end user or
 * globally, with a shadow mode that only reports. Start with {@link dev.detour.ratelimit.RateLimitFilter};
 * buckets live behind {@link dev.detour.ratelimit.BucketStore} (in memory now, a shared store later), and
 * prompt tokens are estimated before dispatch (from UTF-8 bytes far from a limit, with a real tokenizer near
 * one: see {@code TokenEstimate}), then settled against the usage the upstream reports.
 */
package dev.detour.ratelimit;
