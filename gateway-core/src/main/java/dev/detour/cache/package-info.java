/**
 * The response cache: repeated chat-completion and embedding requests answered from memory, without an
 * upstream call or a provider key. Start with {@link dev.detour.cache.CacheFilter} (what a request goes
 * through) and {@link dev.detour.cache.ResponseCache} (the byte-bounded store that outlives config versions);
 * keys are built by {@code CacheKeys} from a canonical form of the body, and streamed answers are assembled
 * as they pass ({@code StreamAssembler}) and replayed as streams ({@code SseReplay}).
 */
package dev.detour.cache;
