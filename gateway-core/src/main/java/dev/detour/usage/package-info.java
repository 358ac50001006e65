/**
 * Usage accounting: every request's tokens (prompt, completion, cached) and cost at list prices, per client,
 * team, route, upstream key and budget scope, for the current UTC day and month and since start-up. Start with
 * {@link dev.detour.usage.UsageLedger} (the counters and their read API, {@code snapshot()}), then
 * {@link dev.detour.usage.UsageRecorder} (what a finished request adds) and
 * {@link dev.detour.usage.UsagePersistence} (the usage file that survives restarts).
 */
package dev.detour.usage;
