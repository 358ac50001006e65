/**
 * The Anthropic Messages dialect: {@link dev.detour.provider.anthropic.AnthropicAdapter} turns OpenAI chat and
 * legacy completion requests into {@code POST /v1/messages}, classifies Anthropic's errors and rate-limit headers
 * for the router, and creates a per-exchange translator that maps answers and named SSE event streams back to
 * OpenAI's {@code chat.completion} shapes. Start at the adapter; the request side is {@code RequestTranslator},
 * the response side {@code MessagesTranslator}.
 */
package dev.detour.provider.anthropic;
