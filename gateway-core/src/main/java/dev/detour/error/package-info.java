/**
 * The error model: {@link dev.detour.error.ErrorKind} fixes status and OpenAI type together, and
 * {@link dev.detour.error.ErrorResponses} renders every error Detour produces in OpenAI's envelope.
 */
package dev.detour.error;
