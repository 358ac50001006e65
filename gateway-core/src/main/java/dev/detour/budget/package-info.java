/**
 * Budgets: caps on spend (USD at list prices) and LLM tokens per UTC day or month, per client, team or
 * globally, that refuse requests with 429 once used up, or send them to a cheaper fallback route. Start with
 * {@link dev.detour.budget.BudgetFilter}; usage itself is counted by {@link dev.detour.usage.UsageLedger}, and
 * {@link dev.detour.budget.BudgetFilter#states()} says where each budget stands.
 */
package dev.detour.budget;
