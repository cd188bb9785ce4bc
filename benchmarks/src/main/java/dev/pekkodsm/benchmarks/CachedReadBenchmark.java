package dev.pekkodsm.benchmarks;

import dev.pekkodsm.DBox;
import dev.pekkodsm.DRef;
import dev.pekkodsm.DsmCounters;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.testkit.LocalCluster;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of a shared read once the value is cached: {@link DRef#get()} on a node that is not the
 * object's home, after its first {@code get()} copied the snapshot into that node's read cache.
 *
 * <p>Why: the design's promise is that, after one one-sided read, shared data is read at local
 * memory speed with no message and no copy (DESIGN.md section 8: "within 2x of a plain local {@code
 * ConcurrentHashMap.get} of the same value"). The three benchmarks, measured in one run:
 *
 * <ul>
 *   <li>{@link #chmGet()}: the baseline, {@code ConcurrentHashMap.get} of the same value from a map
 *       of {@value #MAP_ENTRIES} entries (what an application would otherwise use as a local
 *       cache);
 *   <li>{@link #cachedGetRemote()}: {@code get()} on node 1 of a reference to an object homed on
 *       node 0, sent there with {@link LocalCluster#send} and already read once;
 *   <li>{@link #getHome()}: {@code get()} of a reference on the object's home, which returns the
 *       live value.
 * </ul>
 *
 * <p>Setup starts a two-node {@link LocalCluster} (two actor systems in this JVM, Artery TCP on
 * loopback, the shm transport between them) and checks that the first remote {@code get()} was a
 * one-sided read and later ones are not; teardown checks that node 1 neither read nor sent anything
 * while it was measured.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
    value = 1,
    jvmArgs = {"-Xms2g", "-Xmx2g", "-XX:+UseParallelGC"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class CachedReadBenchmark {

  static final int MAP_ENTRIES = 1024;
  private static final int VALUE_BYTES = 64;

  private LocalCluster cluster;
  private DBox<Payload> box;
  private DRef<Payload> homeRef;
  private DRef<Payload> remoteRef;
  private ConcurrentHashMap<Long, Payload> map;
  private Long key; // a field, not a constant, so the JIT cannot fold the lookup
  private DsmCounters remoteBefore;

  /** Starts the cluster, lends a reference to node 1 and reads it there once. */
  @Setup(Level.Trial)
  public void start() {
    cluster = Clusters.twoNodes("");
    Payload value = Payload.ofLength(VALUE_BYTES);
    box = cluster.dsm(0).alloc(value);
    homeRef = box.share();
    remoteRef = cluster.send(0, 1, homeRef.copy());

    DsmCounters fresh = cluster.dsm(1).counters();
    Payload first = remoteRef.get();
    Payload second = remoteRef.get();
    DsmCounters read = cluster.dsm(1).counters().minus(fresh);
    if (read.oneSidedReads() != 1
        || first != second
        || !Arrays.equals(first.bytes(), value.bytes())) {
      throw new IllegalStateException(
          "expected one one-sided read, then cache hits; got "
              + read
              + " (same instance: "
              + (first == second)
              + ")");
    }
    if (homeRef.get() != value) {
      throw new IllegalStateException("the home reference does not return the live value");
    }

    // The receiver tells the home that it holds the reference (an Adopt, sent asynchronously);
    // wait until the home has it, so no message of the setup is counted as the measurement's.
    NodeId reader = cluster.nodeId(1);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!cluster
        .dsm(0)
        .internalNode()
        .object(box.address().object())
        .holders()
        .lentRefs()
        .containsKey(reader)) {
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException(
            "the home did not learn within 10 s that node 1 holds " + remoteRef);
      }
      LockSupport.parkNanos(100_000);
    }

    map = new ConcurrentHashMap<>();
    for (long k = 0; k < MAP_ENTRIES; k++) {
      map.put(k, Payload.ofLength(VALUE_BYTES));
    }
    key = (long) (MAP_ENTRIES / 2);
    map.put(key, value);
    remoteBefore = cluster.dsm(1).counters();
  }

  /** Releases the references and stops the cluster. */
  @TearDown(Level.Trial)
  public void stop() {
    try {
      DsmCounters during = cluster.dsm(1).counters().minus(remoteBefore);
      if (during.oneSidedReads() != 0 || during.messagesSent() != 0) {
        System.out.println(
            "WARNING: node 1 did "
                + during.oneSidedReads()
                + " one-sided reads and sent "
                + during.messagesSent()
                + " messages during the measurement; cached reads should do neither");
      }
      remoteRef.release();
      homeRef.release();
    } finally {
      cluster.close();
    }
  }

  /** Baseline: a local concurrent map lookup of the same value. */
  @Benchmark
  public Payload chmGet() {
    return map.get(key);
  }

  /** A cached read on a node that is not the object's home. */
  @Benchmark
  public Payload cachedGetRemote() {
    return remoteRef.get();
  }

  /** A read on the object's home: the live value, no cache involved. */
  @Benchmark
  public Payload getHome() {
    return homeRef.get();
  }
}
