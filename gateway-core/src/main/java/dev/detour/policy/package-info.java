/**
 * Context-aware policies: {@link dev.detour.policy.PolicyFilter} resolves who and what a request is
 * for (end user, session, priority, tier) and applies the first matching policy: extra limits, route
 * mapping, and admission of lower priorities under scarcity.
 */
package dev.detour.policy;
