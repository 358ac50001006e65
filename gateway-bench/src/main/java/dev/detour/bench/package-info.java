/**
 * JMH microbenchmarks of the per-request work in gateway-core: body sniffing, the filter chain,
 * provider request preparation and route lookup. Start with {@link dev.detour.bench.Fixtures}, which
 * builds realistic request bodies and contexts without sockets.
 *
 * <p>Run with {@code scripts/bench --jmh} (adds {@code -prof gc} for bytes allocated per operation),
 * or {@code java -jar gateway-bench/target/detour-benchmarks.jar -h} for JMH's own options. Nothing
 * here runs during {@code mvn verify}.
 */
package dev.detour.bench;
