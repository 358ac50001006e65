/**
 * Time as a dependency: {@link dev.detour.time.NanoClock} is injected into everything that reads time.
 */
package dev.detour.time;
