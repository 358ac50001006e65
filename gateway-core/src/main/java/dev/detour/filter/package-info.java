/**
 * The filter contract: every API request passes an ordered chain of
 * {@link dev.detour.filter.GatewayFilter}s, built once per config into a
 * {@link dev.detour.filter.FilterPipeline}, ending in the dispatch filter. Start with
 * {@link dev.detour.filter.GatewayFilter} and {@link dev.detour.filter.RequestContext}.
 */
package dev.detour.filter;
