package dev.pekkodsm.benchmarks;

import dev.pekkodsm.DAtomicLong;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * {@link DAtomicLong#incrementAndGet()} on the atomic's home and from the other node, against a
 * Cluster Sharding {@code ask} to an entity on the home's node.
 *
 * <p>Why: a remote update of a {@code DAtomicLong} is meant to be exactly one request and one reply
 * (the operation runs at the home, nothing moves), so it should cost about one sharding {@code ask}
 * and put two messages on the wire; on the home it is a synchronized update in place plus the
 * republication of the value's snapshot that lets other nodes read it one-sided. Sampled ({@link
 * Mode#SampleTime}).
 *
 * <ul>
 *   <li>{@link #incrementHome}: on node 0, the home. The atomic has been shared with node 1, so
 *       every update also rewrites its snapshot in the home's arena (a Kryo write of a {@code Long}
 *       and a CRC32C): the cost any atomic that another node can see pays;
 *   <li>{@link #incrementRemote}: on node 1, through a handle sent there with {@link
 *       LocalCluster#send}: an {@code AtomicOp} request to the home's owner entity, an {@code
 *       AtomicDone} reply;
 *   <li>{@link #shardingAsk}: the baseline, an {@code ask} from node 1 to an {@link EchoEntity} on
 *       node 0 answered with {@value #ECHO_BYTES} bytes (the size of the result).
 * </ul>
 *
 * <p>At the end of each trial the DSM messages per operation are printed ({@code DSM MESSAGES PER
 * OPERATION}, see {@link MessageTally}): 0 on the home, 2 from the other node.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 1,
    jvmArgs = {"-Xms2g", "-Xmx2g", "-XX:+UseParallelGC"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class AtomicLongBenchmark {

  static final int ECHO_BYTES = 8;

  private LocalCluster cluster;
  private DAtomicLong atHome;
  private DAtomicLong onOther;
  private EntityRef<EchoEntity.Command> echoAtHome;
  private MessageTally tally;

  /**
   * Starts the cluster, allocates the atomic on node 0 and sends a handle to node 1, finds an echo
   * entity on node 0 asked from node 1, and checks that both sides update the same value.
   */
  @Setup(Level.Trial)
  public void start() {
    cluster = Clusters.twoNodes(EchoEntity.CONFIG);
    Echoes.startSharding(cluster, new byte[ECHO_BYTES]);
    echoAtHome = Echoes.entityOn(cluster, 1, 0);
    atHome = cluster.dsm(0).atomicLong(0);
    onOther = cluster.send(0, 1, atHome.clone());
    if (incrementHome() != 1 || incrementRemote() != 2 || atHome.get() != 2) {
      throw new IllegalStateException("the two handles do not update the same value");
    }
    if (onOther.get() != 2) {
      throw new IllegalStateException("a one-sided read does not see the last update");
    }
    tally = new MessageTally(cluster);
    tally.start();
  }

  /** Prints messages per operation, drops the handles and stops the cluster. */
  @TearDown(Level.Trial)
  public void stop(BenchmarkParams params) {
    try {
      tally.report(
          params,
          method ->
              switch (method) {
                case "incrementRemote" -> 2;
                case "shardingAsk" -> -1;
                default -> 0;
              });
      onOther.drop();
      atHome.drop();
    } finally {
      cluster.close();
    }
  }

  /** An increment on the home: in place, then the snapshot is republished. */
  @Benchmark
  public long incrementHome() {
    tally();
    return atHome.incrementAndGet();
  }

  /** An increment from the other node: one request to the home, one reply. */
  @Benchmark
  public long incrementRemote() {
    tally();
    return onOther.incrementAndGet();
  }

  /** Baseline: a sharding ask to an entity on the home's node. */
  @Benchmark
  public EchoEntity.Pong shardingAsk() {
    tally();
    return Echoes.ask(echoAtHome);
  }

  private void tally() {
    if (tally != null) { // null while setup runs the operations once
      tally.op();
    }
  }
}
