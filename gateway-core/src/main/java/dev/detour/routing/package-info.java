/**
 * Routing: the {@link dev.detour.routing.RouteTable} maps the model a client asks for to a
 * {@link dev.detour.routing.Route} of {@link dev.detour.routing.Target}s, and the
 * {@link dev.detour.routing.DispatchFilter} sends the request to them through the upstream transport.
 */
package dev.detour.routing;
