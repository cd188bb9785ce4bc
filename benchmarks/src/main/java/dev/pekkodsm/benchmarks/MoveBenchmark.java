package dev.pekkodsm.benchmarks;

import dev.pekkodsm.DBox;
import dev.pekkodsm.DsmCounters;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.testkit.LocalCluster;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
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

/**
 * A mutable borrow that moves a 1 KiB object to the writer's node, against a plain Cluster Sharding
 * {@code ask} round trip to an entity on the other node; and the number of messages a move puts on
 * the wire.
 *
 * <p>Why: a move is the DSM's only remote round trip on the write path (DESIGN.md section 2: "one
 * request, one reply carrying the bytes"), so it should cost about what one sharding {@code ask} to
 * another node costs, and put exactly two messages on the wire (section 8). Sampled ({@link
 * Mode#SampleTime}), so the table has p50, p99 and p99.9 as well as the mean.
 *
 * <p><b>One measured operation is exactly one move.</b> A {@code DBox} only moves its object when
 * its holder writes and the object lives elsewhere; after the write the object is local to the
 * holder, so writing again would be a local write. So before every invocation, untimed
 * ({@code @Setup(Level.Invocation)}), the box is sent to the other node with {@link
 * LocalCluster#send}: its object stays homed where it is, the receiver now owns it remotely. The
 * setup then waits until the home has recorded the new owner (the receiver's {@code Adopt} has
 * arrived), so nothing of the hand-off is still in flight (see {@link BoxPingPong}). The measured
 * {@link #move} is then one {@code write()} on the receiver: a {@code HandOver} request to the
 * home, a {@code HandedOver} reply with the 1 KiB value, installing it under a new address, and the
 * (trivial) write. The object ping-pongs between node 0 and node 1.
 *
 * <p>The baselines:
 *
 * <ul>
 *   <li>{@link #shardingAsk}: back-to-back asks, alternately from node 0 to an echo entity that
 *       lives on node 1 and from node 1 to one on node 0, each answered with 1 KiB (see {@link
 *       EchoEntity});
 *   <li>{@link #shardingAskAfterHandOff}: the control for the move's harness. Before every
 *       invocation it does, untimed, everything {@link #move}'s cycle does (the previous move, the
 *       hand-off, waiting for the home), then measures one echo ask from the box's holder to the
 *       home's node, the same direction as the move. If a move costs more than this, the difference
 *       is the DSM's; if {@code shardingAsk} costs less than this, the difference is what
 *       back-to-back asks gain from threads and connections kept hot.
 * </ul>
 *
 * <p><b>Messages per move</b> are counted, not timed: around every measured move (warmup included)
 * {@link Mover} reads {@link DsmCounters#messagesSent()} of both nodes, and at the end of the trial
 * it prints the total divided by the number of moves, with the split between the writers' and the
 * homes' nodes. It must print 2.000. This is cleaner than {@code @AuxCounters}, which JMH
 * guarantees only in throughput and average-time modes, resets every iteration, and whose counters
 * would have to exclude the untimed hand-off messages anyway.
 *
 * <p><b>Warmup is longer than elsewhere</b> (8 x 2 s): the untimed hand-off dominates each cycle,
 * so only about a thousand moves run per iteration, and the move's path (Pekko, sharding, the DSM)
 * needs several thousand before it is compiled. With 3 warmup iterations the move's p90 was still
 * 3.3 ms in the measurement; with 8 it is stable (below 1 ms on the machine it was tuned on). The
 * baselines get the same warmup.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 1,
    jvmArgs = {"-Xms2g", "-Xmx2g", "-XX:+UseParallelGC"})
@Warmup(iterations = 8, time = 2)
@Measurement(iterations = 5, time = 2)
public class MoveBenchmark {

  static final int VALUE_BYTES = 1024;
  private static final long SETTLE_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

  /** The two-node cluster and the echo entities, shared by the benchmark's thread. */
  @State(Scope.Benchmark)
  public static class Nodes {
    LocalCluster cluster;

    /** {@code echoElsewhere.get(i)}: an echo entity asked from node i that lives on node 1 - i. */
    final List<EntityRef<EchoEntity.Command>> echoElsewhere = new ArrayList<>(2);

    /** Starts the cluster and the echo entity type on both nodes; finds remote entities. */
    @Setup(Level.Trial)
    public void start() {
      cluster = Clusters.twoNodes(EchoEntity.CONFIG);
      Echoes.startSharding(cluster, Payload.ofLength(VALUE_BYTES).bytes());
      for (int i = 0; i < 2; i++) {
        echoElsewhere.add(Echoes.entityOn(cluster, i, 1 - i));
      }
    }

    /** Stops the cluster. */
    @TearDown(Level.Trial)
    public void stop() {
      cluster.close();
    }
  }

  /**
   * One DBox of a 1 KiB object passed between node 0 and node 1. Not thread-safe: used by the
   * benchmark thread only.
   */
  static final class BoxPingPong {
    private final LocalCluster cluster;
    private DBox<Payload> box;
    private int holder;

    /** Allocates the object on node 0, owned there. */
    BoxPingPong(LocalCluster cluster) {
      this.cluster = cluster;
      Payload value = Payload.withSerializedSize(cluster.dsm(0).internalNode().kryo(), VALUE_BYTES);
      this.box = cluster.dsm(0).alloc(value);
      this.holder = 0;
    }

    /** The node that owns the box now. */
    int holder() {
      return holder;
    }

    /** The box, owned by node {@link #holder()}. */
    DBox<Payload> box() {
      return box;
    }

    /**
     * Sends the box to the other node (whose object must be homed on this one) and waits until the
     * home has recorded the new owner, so nothing of the hand-off is in flight on return.
     */
    void handToOtherNode() {
      int to = 1 - holder;
      box = cluster.send(holder, to, box);
      holder = to;
      GlobalAddress a = box.address();
      int home = cluster.indexOf(a.node());
      if (home != 1 - to || box.isLocal()) {
        throw new IllegalStateException(
            "expected the box on node "
                + to
                + " to own an object homed on node "
                + (1 - to)
                + ", got "
                + box);
      }
      NodeId owner = cluster.nodeId(to);
      long deadline = System.nanoTime() + SETTLE_TIMEOUT_NS;
      while (!owner.equals(holderAtHome(home, a))) {
        if (System.nanoTime() - deadline > 0) {
          throw new IllegalStateException(
              "node " + home + " did not learn within 10 s that " + "node " + to + " owns " + a);
        }
        LockSupport.parkNanos(20_000);
      }
    }

    private NodeId holderAtHome(int home, GlobalAddress a) {
      OwnedObject obj = cluster.dsm(home).internalNode().object(a.object());
      return obj == null ? null : obj.boxHolder();
    }

    /** The measured operation: a write by the holder, which moves the object to it. */
    byte write() {
      return box.write(v -> ++v.bytes()[0]);
    }
  }

  /** Hands the box over before each move, and counts messages around each move. */
  @State(Scope.Thread)
  public static class Mover {
    BoxPingPong pingPong;
    private LocalCluster cluster;
    private final long[] sentBefore = new long[2];
    private final long[] movesInBefore = new long[2];
    private long moves;
    private long sentByWriters;
    private long sentByHomes;
    private long movesIn;

    /** Allocates the 1 KiB object on node 0. */
    @Setup(Level.Trial)
    public void allocate(Nodes nodes) {
      cluster = nodes.cluster;
      pingPong = new BoxPingPong(cluster);
    }

    /** Hands the box to the other node, untimed, and reads the counters. */
    @Setup(Level.Invocation)
    public void handOver() {
      pingPong.handToOtherNode();
      for (int i = 0; i < 2; i++) {
        DsmCounters c = cluster.dsm(i).counters();
        sentBefore[i] = c.messagesSent();
        movesInBefore[i] = c.movesIn();
      }
    }

    /** Adds the messages of the move just measured. */
    @TearDown(Level.Invocation)
    public void count() {
      for (int i = 0; i < 2; i++) {
        DsmCounters c = cluster.dsm(i).counters();
        long sent = c.messagesSent() - sentBefore[i];
        if (i == pingPong.holder()) {
          sentByWriters += sent;
        } else {
          sentByHomes += sent;
        }
        movesIn += c.movesIn() - movesInBefore[i];
      }
      moves++;
      if (!pingPong.box().isLocal()) {
        throw new IllegalStateException(
            "the write did not move the object here: " + pingPong.box());
      }
    }

    /** Prints messages per move; it must be 2 (one request, one reply). */
    @TearDown(Level.Trial)
    public void report() {
      long messages = sentByWriters + sentByHomes;
      double perMove = moves == 0 ? Double.NaN : (double) messages / moves;
      String verdict =
          messages == 2 * moves && sentByWriters == moves
              ? "as designed"
              : "UNEXPECTED: a move must be exactly one request and one reply";
      System.out.printf(
          "%nMESSAGES PER MOVE: %.3f (%s)%n"
              + "  %d messages over %d moves: writers' nodes sent %d, homes sent %d%n"
              + "  moves counted by the writers' nodes: %d; arena slots live: node 0 %d, "
              + "node 1 %d%n",
          perMove,
          verdict,
          messages,
          moves,
          sentByWriters,
          sentByHomes,
          movesIn,
          cluster.dsm(0).counters().arenaSlots(),
          cluster.dsm(1).counters().arenaSlots());
    }
  }

  /**
   * The control's state: before each invocation, untimed, the previous invocation's move (a write
   * by the holder) and the next hand-off, exactly the work of {@link Mover}'s cycle.
   */
  @State(Scope.Thread)
  public static class Idler {
    BoxPingPong pingPong;
    private boolean handedOff;

    /** Allocates the 1 KiB object on node 0. */
    @Setup(Level.Trial)
    public void allocate(Nodes nodes) {
      pingPong = new BoxPingPong(nodes.cluster);
    }

    /** Moves the object to its holder (after the first time) and hands it over. */
    @Setup(Level.Invocation)
    public void moveAndHandOver() {
      if (handedOff) {
        pingPong.write();
      }
      pingPong.handToOtherNode();
      handedOff = true;
    }
  }

  /** Which remote echo entity the next sharding ask goes to. */
  @State(Scope.Thread)
  public static class Turn {
    private int next;

    int next() {
      int n = next;
      next = 1 - n;
      return n;
    }
  }

  /** One move: a write on the node that owns the box, of an object homed on the other node. */
  @Benchmark
  public byte move(Mover mover) {
    return mover.pingPong.write();
  }

  /** Baseline: back-to-back sharding asks to an entity on the other node, alternating nodes. */
  @Benchmark
  public EchoEntity.Pong shardingAsk(Nodes nodes, Turn turn) {
    return Echoes.ask(nodes.echoElsewhere.get(turn.next()));
  }

  /**
   * Control: one sharding ask from the box's holder to an entity on the other node, after the same
   * untimed work that precedes each {@link #move}.
   */
  @Benchmark
  public EchoEntity.Pong shardingAskAfterHandOff(Nodes nodes, Idler idler) {
    return Echoes.ask(nodes.echoElsewhere.get(idler.pingPong.holder()));
  }
}
