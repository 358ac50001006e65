/**
 * A catalog of well-known models: context window, output cap, list prices and capabilities, for cost
 * accounting, budgets and capability-aware routing. Start at {@link dev.detour.catalog.ModelCatalog#builtin()};
 * the data is {@code models.csv} next to these classes, dated in its header, and extended or corrected with
 * {@link dev.detour.catalog.ModelCatalog#withOverrides(java.util.List)}.
 */
package dev.detour.catalog;
