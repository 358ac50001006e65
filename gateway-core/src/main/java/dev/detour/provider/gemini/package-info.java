/**
 * Google Gemini (Generative Language API): {@link dev.detour.provider.gemini.GeminiAdapter} turns OpenAI chat,
 * completion and embedding requests into {@code generateContent}, {@code streamGenerateContent?alt=sse} and
 * {@code batchEmbedContents} calls, translates the answers and SSE streams back into OpenAI's shapes, and
 * classifies Google's {@code google.rpc.Status} errors (quota, RetryInfo) for key rotation.
 *
 * <p>Start with {@code GeminiAdapter}; request mapping lives in {@code GenerateRequests} and
 * {@code EmbedRequests}, answers in {@code GenerateTranslator} and {@code EmbedTranslator}, errors in
 * {@code GeminiErrors}. Pure code, no I/O; see {@code docs/providers/gemini.md} for the mapping.
 */
package dev.detour.provider.gemini;
