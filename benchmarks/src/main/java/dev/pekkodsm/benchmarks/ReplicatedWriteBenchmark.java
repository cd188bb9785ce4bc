package dev.pekkodsm.benchmarks;

import dev.pekkodsm.DAtomicLong;
import dev.pekkodsm.DBox;
import dev.pekkodsm.DMut;
import dev.pekkodsm.DMutex;
import dev.pekkodsm.testkit.LocalCluster;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What replication factor 1 costs a write: the write of a 1 KiB box on its home, with factor 0 (no
 * backup: a memory operation) and factor 1 (the new version is published, shipped to the backup and
 * acknowledged before the write ends); a mutex's lock, change and unlock on the home and from the
 * other node, and an atomic's increment on the home and from the other node; against one Cluster
 * Sharding {@code ask} of 1 KiB to the other node. At factor 1 a mutex commit is written to the
 * backup by its writer and then one-sided into the home ({@code 1}), or made by the home, which has
 * its backup hold it first ({@code 1-home-commits}, and {@code 1-artery}, where the stream and the
 * requests to the home are Pekko messages); an increment from the other node is always asked of the
 * home. Sampled, so the table has percentiles.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 1,
    jvmArgs = {"-Xms2g", "-Xmx2g", "-XX:+UseParallelGC"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class ReplicatedWriteBenchmark {

  static final int VALUE_BYTES = 1024;

  /** Two nodes; node 0 writes a box homed on itself; node 1 is its backup when factor is 1. */
  @State(Scope.Benchmark)
  public static class Nodes {
    /**
     * The replication factor, and for 1 how commits and the stream travel: 1 (tcp; a mutex commit
     * written to the backup by its writer), 1-home-commits (tcp; every commit made by the home,
     * {@code direct-commits = off}) or 1-artery.
     */
    @Param({"0", "1", "1-home-commits", "1-artery"})
    String factor;

    LocalCluster cluster;
    DBox<Payload> box;
    DMutex<long[]> counterAtHome;
    DMutex<long[]> counterOnOther;
    DAtomicLong atomicAtHome;
    DAtomicLong atomicOnOther;
    EntityRef<EchoEntity.Command> echo;

    @Setup(Level.Trial)
    public void start() {
      cluster =
          Clusters.twoNodes(
              EchoEntity.CONFIG
                  + "\npekko.dsm.replication.factor = "
                  + factor.charAt(0)
                  + (factor.endsWith("artery")
                      ? "\npekko.dsm.replication.channel = artery"
                          + "\npekko.dsm.replication.direct-commits = off"
                      : "")
                  + (factor.endsWith("home-commits")
                      ? "\npekko.dsm.replication.direct-commits = off"
                      : ""));
      Echoes.startSharding(cluster, Payload.ofLength(VALUE_BYTES).bytes());
      echo = Echoes.entityOn(cluster, 0, 1);
      box = cluster.dsm(0).alloc(Payload.ofLength(VALUE_BYTES));
      box.write(p -> p); // the backup exists by now: the first replicated write waits for it
      counterAtHome = cluster.dsm(0).mutex(new long[1]);
      counterOnOther = cluster.send(0, 1, cluster.dsm(0).mutex(new long[1]));
      atomicAtHome = cluster.dsm(0).atomicLong(0);
      atomicOnOther = cluster.send(0, 1, atomicAtHome.clone());
    }

    @TearDown(Level.Trial)
    public void stop() {
      cluster.close();
    }
  }

  /** One local write of the box on its home. */
  @Benchmark
  public int localWrite(Nodes nodes) {
    return nodes.box.write(p -> p.bytes().length);
  }

  /** Node 0 locks a counter homed on itself, increments it and unlocks. */
  @Benchmark
  public long homeLockChange(Nodes nodes) {
    try (DMut<long[]> held = nodes.counterAtHome.lock()) {
      return ++held.get()[0];
    }
  }

  /**
   * Node 1 locks a counter homed on node 0, increments it and unlocks (node 1 is node 0's backup:
   * at factor 1 it writes its own mirror).
   */
  @Benchmark
  public long remoteLockChange(Nodes nodes) {
    try (DMut<long[]> held = nodes.counterOnOther.lock()) {
      return ++held.get()[0];
    }
  }

  /** An atomic's increment on its home. */
  @Benchmark
  public long homeIncrement(Nodes nodes) {
    return nodes.atomicAtHome.incrementAndGet();
  }

  /** An atomic homed on node 0 incremented by node 1. */
  @Benchmark
  public long remoteIncrement(Nodes nodes) {
    return nodes.atomicOnOther.incrementAndGet();
  }

  /** The floor: one 1 KiB sharding ask from node 0 to an entity on node 1. */
  @Benchmark
  public Object echoAsk(Nodes nodes) {
    return Echoes.ask(nodes.echo);
  }
}
