/**
 * JMH microbenchmarks of the DSM's primitives, one class per primitive (DESIGN.md section 8).
 *
 * <ul>
 *   <li>{@link dev.pekkodsm.benchmarks.CachedReadBenchmark}: a cached {@code DRef.get()} on a node
 *       that is not the object's home, against {@code ConcurrentHashMap.get} and a read on the
 *       home. Target: within 2x of the map.
 *   <li>{@link dev.pekkodsm.benchmarks.ShmReadBenchmark}: an uncached one-sided read over shm plus
 *       deserialization, split into its parts (memory copy, checks, decoding). Target: a 1 KiB
 *       object under 5 µs.
 *   <li>{@link dev.pekkodsm.benchmarks.MoveBenchmark}: a mutable borrow that moves a 1 KiB object
 *       between two nodes, against a Cluster Sharding {@code ask} to an entity on the other node;
 *       and the number of messages a move puts on the wire. Target: two.
 *   <li>{@link dev.pekkodsm.benchmarks.MutexBenchmark}: a one-sided {@code DMutex.read} of 1 KiB
 *       against a sharding {@code ask} for the same value; lock and {@code update} of a counter on
 *       the mutex's home and from another node, with messages per operation.
 *   <li>{@link dev.pekkodsm.benchmarks.AtomicLongBenchmark}: {@code DAtomicLong.incrementAndGet()}
 *       on the home and from another node, against a sharding {@code ask}.
 *   <li>{@link dev.pekkodsm.benchmarks.SpawnBenchmark}: {@code spawnOn} and {@code spawnTo} round
 *       trips to another node, against a typed actor {@code ask} and a sharding {@code ask}.
 *   <li>{@link dev.pekkodsm.benchmarks.VecReadBenchmark}: a cold {@code DVec.forEach} over 4 MiB of
 *       tiles on another node, in MB/s, against a local copy of the same bytes.
 *   <li>{@link dev.pekkodsm.benchmarks.ArrayCodecBenchmark}: the DSM's Kryo encoding and decoding
 *       of a 1 MiB {@code int[]}, {@code long[]} and {@code double[]}, small and full-range values.
 * </ul>
 *
 * <p>Run them from the uber-jar, never from the build:
 *
 * <pre>
 * mvn -B -ntp install -DskipTests
 * java -jar benchmarks/target/benchmarks.jar -rf json -rff benchmarks/target/jmh-result.json
 * java -jar benchmarks/target/benchmarks.jar MoveBenchmark      # one class
 * </pre>
 *
 * <p>Benchmark and {@code @State} classes are public and not final because JMH requires it: its
 * generated harness lives in a sub-package and subclasses each state class to pad it against false
 * sharing. Everything else here is package-private and final.
 */
package dev.pekkodsm.benchmarks;
