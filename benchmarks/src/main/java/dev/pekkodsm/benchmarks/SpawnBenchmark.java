package dev.pekkodsm.benchmarks;

import dev.pekkodsm.DBox;
import dev.pekkodsm.DCallable;
import dev.pekkodsm.DRef;
import dev.pekkodsm.Dsm;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.testkit.LocalCluster;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
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
 * The round trip of running a trivial function on the other node: {@link Dsm#spawnOn} of a task,
 * and {@link Dsm#spawnTo} of a function to data that lives there, against a typed actor {@code ask}
 * and a Cluster Sharding {@code ask} to an actor on that node doing the same trivial work.
 *
 * <p>Why: "run the code where the data is" replaces an actor protocol (a message type, a behavior,
 * a reply) with a lambda. What it adds to the round trip it travels on is the shipping: the
 * function and what it captures are serialized with Kryo at the call and decoded on the other node,
 * it runs on that node's task threads rather than on the actor's, and its result is serialized
 * back. These benchmarks say what that costs next to the plain asks a Pekko user would write
 * instead. Sampled ({@link Mode#SampleTime}); every call blocks the benchmark thread on the
 * returned {@link CompletionStage}, as the asks do.
 *
 * <p>All calls are made on node 0; the work happens on node 1:
 *
 * <ul>
 *   <li>{@link #spawnOn}: {@code spawnOn(node1, () -> x + 1)} with a captured {@code Integer};
 *       travels as a typed {@code ask} to node 1's DSM node actor ({@code Spawn}, {@code
 *       TaskResult});
 *   <li>{@link #spawnToRef}: {@code spawnTo(ref, c -> c[0])}, {@code ref} a {@link DRef} to a
 *       {@code long[1]} homed on node 1, sent to node 0: the function runs at the home under a
 *       shared borrow; travels as an {@code ask} to the object's owner entity through Cluster
 *       Sharding ({@code RunAt}, {@code TaskResult});
 *   <li>{@link #spawnToBox}: {@code spawnTo(box, c -> ++c[0])}, {@code box} a {@link DBox} owned by
 *       node 0 whose {@code long[1]} lives on node 1: the function runs there under a mutable
 *       borrow, the object's color advances and the home publishes the new version's 8-byte
 *       snapshot before it replies (so the box, which stays on node 0, can follow it); same
 *       messages as {@code spawnToRef};
 *   <li>{@link #actorAsk}: the baseline for {@code spawnOn}, an {@link
 *       org.apache.pekko.actor.typed.javadsl.AskPattern#ask} from node 0 to a plain {@link
 *       EchoEntity} actor on node 1, answered with {@value #ECHO_BYTES} bytes;
 *   <li>{@link #shardingAsk}: the baseline for {@code spawnTo}, a sharding {@code ask} from node 0
 *       to an echo entity on node 1, answered with {@value #ECHO_BYTES} bytes.
 * </ul>
 *
 * <p>The shipped functions are static methods or lambdas in static methods, so they capture only
 * what they are given (an {@code Integer}), never the benchmark. At the end of each trial the DSM
 * messages per operation are printed ({@code DSM MESSAGES PER OPERATION}, see {@link
 * MessageTally}): 2 for each DSM call.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 1,
    jvmArgs = {"-Xms2g", "-Xmx2g", "-XX:+UseParallelGC"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class SpawnBenchmark {

  static final int ECHO_BYTES = 8;

  private LocalCluster cluster;
  private Dsm dsm;
  private NodeId other;
  private Integer input; // a field, so the task captures a value the JIT cannot fold
  private DBox<long[]> refSource;
  private DRef<long[]> ref;
  private DBox<long[]> box;
  private ActorRef<EchoEntity.Command> echoActor;
  private EntityRef<EchoEntity.Command> echoEntity;
  private MessageTally tally;

  /**
   * Starts the cluster, puts the data on node 1 and hands node 0 a reference and a box to it,
   * starts the echo actor and finds an echo entity on node 1, and runs every call once, checking
   * where it ran and what it returned.
   */
  @Setup(Level.Trial)
  public void start() {
    cluster = Clusters.twoNodes(EchoEntity.CONFIG);
    dsm = cluster.dsm(0);
    other = cluster.nodeId(1);
    input = 41;
    byte[] payload = new byte[ECHO_BYTES];
    Echoes.startSharding(cluster, payload);
    echoEntity = Echoes.entityOn(cluster, 0, 1);
    echoActor = Echoes.actorOn(cluster, 0, 1, "bench-echo", payload);

    refSource = cluster.dsm(1).alloc(new long[] {7});
    ref = cluster.send(1, 0, refSource.share());
    box = cluster.send(1, 0, cluster.dsm(1).alloc(new long[1]));
    if (!box.address().node().equals(other) || !ref.address().node().equals(other)) {
      throw new IllegalStateException("the data must live on node 1: " + box + ", " + ref);
    }

    NodeId ranOn = dsm.spawnOn(other, SpawnBenchmark::whereAmI).toCompletableFuture().join();
    NodeId refRanOn = dsm.spawnTo(ref, SpawnBenchmark::whereItRuns).toCompletableFuture().join();
    NodeId boxRanOn = dsm.spawnTo(box, SpawnBenchmark::whereItRuns).toCompletableFuture().join();
    if (!other.equals(ranOn) || !other.equals(refRanOn) || !other.equals(boxRanOn)) {
      throw new IllegalStateException(
          "tasks ran on " + ranOn + ", " + refRanOn + ", " + boxRanOn + ", not on " + other);
    }
    if (spawnOn() != 42 || spawnToRef() != 7 || spawnToBox() != 1 || spawnToBox() != 2) {
      throw new IllegalStateException("a task returned a wrong result");
    }
    if (!box.address().node().equals(other)) {
      throw new IllegalStateException("spawnTo moved the box's object: " + box);
    }
    String target = cluster.system(1).address().toString();
    if (!actorAsk().node().equals(target) || !shardingAsk().node().equals(target)) {
      throw new IllegalStateException("an echo did not answer from node 1");
    }
    tally = new MessageTally(cluster);
    tally.start();
  }

  /** Prints messages per operation, frees the data and stops the cluster. */
  @TearDown(Level.Trial)
  public void stop(BenchmarkParams params) {
    try {
      tally.report(params, method -> method.endsWith("Ask") ? -1 : 2);
      ref.release();
      box.drop();
      refSource.dropAsync(); // completes once the home has the reference back; close() follows
    } finally {
      cluster.close();
    }
  }

  /** A task on the other node: {@code x + 1} of a captured {@code Integer}. */
  @Benchmark
  public int spawnOn() {
    tally();
    return dsm.spawnOn(other, plusOne(input)).toCompletableFuture().join();
  }

  /** A function run at the home of a reference's object, on the other node: returns its value. */
  @Benchmark
  public long spawnToRef() {
    tally();
    return dsm.spawnTo(ref, SpawnBenchmark::first).toCompletableFuture().join();
  }

  /** A function run where a box's object lives, on the other node: increments it in place. */
  @Benchmark
  public long spawnToBox() {
    tally();
    return dsm.spawnTo(box, SpawnBenchmark::increment).toCompletableFuture().join();
  }

  /** Baseline for {@link #spawnOn}: a typed ask to a plain actor on the other node. */
  @Benchmark
  public EchoEntity.Pong actorAsk() {
    tally();
    return Echoes.ask(echoActor, cluster.system(0));
  }

  /** Baseline for {@code spawnTo}: a sharding ask to an entity on the other node. */
  @Benchmark
  public EchoEntity.Pong shardingAsk() {
    tally();
    return Echoes.ask(echoEntity);
  }

  private void tally() {
    if (tally != null) { // null while setup runs the operations once
      tally.op();
    }
  }

  /** The task of {@link #spawnOn}: captures {@code x} and nothing else. */
  private static DCallable<Integer> plusOne(Integer x) {
    return () -> x + 1;
  }

  private static NodeId whereAmI() {
    return Dsm.current().self();
  }

  private static NodeId whereItRuns(long[] ignored) {
    return whereAmI();
  }

  private static Long first(long[] value) {
    return value[0];
  }

  private static Long increment(long[] value) {
    return ++value[0];
  }
}
