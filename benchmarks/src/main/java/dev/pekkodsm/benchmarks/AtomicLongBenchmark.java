package dev.pekkodsm.benchmarks;

import dev.pekkodsm.DAtomicLong;
import dev.pekkodsm.DsmCounters;
import dev.pekkodsm.testkit.LocalCluster;
import java.io.IOException;
import java.time.Duration;
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
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * {@link DAtomicLong#incrementAndGet()} on the atomic's home and from the other node, over the
 * {@code shm} and the {@code tcp} transport, against the floor of a tcp round trip on loopback and
 * a Cluster Sharding {@code ask} to an entity on the home's node.
 *
 * <p>Why: an atomic is one 64-bit cell in its home's sync region, and every node updates it with
 * one one-sided operation, never a message: a same-host peer with the atomic instruction itself on
 * its read-write mapping of the region ({@code shm}), another host through the home's tcp read
 * server, which performs it on its own threads (one round trip, as an RDMA atomic would be). The
 * targets: over {@code shm} within 5x of the same call on the home, over {@code tcp} within 1.2x of
 * the echo floor. Sampled ({@link Mode#SampleTime}).
 *
 * <ul>
 *   <li>{@link #incrementHome}: on node 0, the home: a get-and-add on its own mapping;
 *   <li>{@link #incrementRemote}: on node 1, through a handle sent there with {@link
 *       LocalCluster#send}: one one-sided get-and-add over the transport the parameter names;
 *   <li>{@link #tcpEchoFloor}: the floor of {@code tcp}: a blocking echo on loopback of a request
 *       and a reply of the tcp transport's sizes ({@value #ADD_REQUEST_BYTES} and 16 + 8 bytes),
 *       one thread per connection on the server, nothing parsed;
 *   <li>{@link #shardingAsk}: what a Pekko user pays today, an {@code ask} from node 1 to an {@link
 *       EchoEntity} on node 0 answered with {@value #ECHO_BYTES} bytes (the size of the result).
 * </ul>
 *
 * <p>At the end of each trial the DSM messages per operation are printed ({@code DSM MESSAGES PER
 * OPERATION}, see {@link MessageTally}): 0 everywhere; setup checks that a remote increment is one
 * one-sided atomic and sends nothing.
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

  /** The tcp transport's get-and-add: a 24-byte header and the object and the delta. */
  static final int ADD_REQUEST_BYTES = 40;

  /** The transport between the two nodes (they share a host: {@code tcp} forces the socket). */
  @Param({"shm", "tcp"})
  public String transport;

  private LocalCluster cluster;
  private DAtomicLong atHome;
  private DAtomicLong onOther;
  private EntityRef<EchoEntity.Command> echoAtHome;
  private EchoServer echoServer;
  private EchoServer.Client echo;
  private MessageTally tally;

  /**
   * Starts the cluster on the transport, allocates the atomic on node 0 and sends a handle to node
   * 1, finds an echo entity on node 0 asked from node 1, starts the echo floor, and checks that
   * both sides update the same value, the remote one with one one-sided atomic and no message.
   */
  @Setup(Level.Trial)
  public void start() throws IOException {
    cluster = Clusters.twoNodes(EchoEntity.CONFIG + "\npekko.dsm.transport = " + transport);
    Echoes.startSharding(cluster, new byte[ECHO_BYTES]);
    echoAtHome = Echoes.entityOn(cluster, 1, 0);
    echoServer = EchoServer.start(ADD_REQUEST_BYTES, new byte[ECHO_BYTES]);
    echo = echoServer.connect();
    atHome = cluster.dsm(0).atomicLong(0);
    onOther = cluster.send(0, 1, atHome.clone());
    cluster.awaitQuiet(Duration.ofMillis(300));
    DsmCounters before = cluster.dsm(1).counters();
    if (incrementHome() != 1 || incrementRemote() != 2 || atHome.get() != 2) {
      throw new IllegalStateException("the two handles do not update the same value");
    }
    DsmCounters spent = cluster.dsm(1).counters().minus(before);
    if (spent.oneSidedAtomics() != 1 || spent.messagesSent() != 0) {
      throw new IllegalStateException(
          "a remote increment should be one one-sided atomic and no message: " + spent);
    }
    if (onOther.get() != 2) {
      throw new IllegalStateException("a one-sided read does not see the last update");
    }
    if (tcpEchoFloor() != ECHO_BYTES) {
      throw new IllegalStateException("the echo answered another payload");
    }
    tally = new MessageTally(cluster);
    tally.start();
  }

  /** Prints messages per operation, drops the handles and stops the cluster and the echo. */
  @TearDown(Level.Trial)
  public void stop(BenchmarkParams params) throws IOException {
    try {
      tally.report(
          params,
          method ->
              switch (method) {
                case "shardingAsk", "tcpEchoFloor" -> -1;
                default -> 0;
              });
      onOther.drop();
      atHome.drop();
    } finally {
      echo.close();
      echoServer.close();
      cluster.close();
    }
  }

  /** An increment on the home: a get-and-add on its own mapping of the cell. */
  @Benchmark
  public long incrementHome() {
    tally();
    return atHome.incrementAndGet();
  }

  /** An increment from the other node: one one-sided get-and-add on the home's cell. */
  @Benchmark
  public long incrementRemote() {
    tally();
    return onOther.incrementAndGet();
  }

  /** Floor of a remote increment over tcp: one echo of the same sizes on loopback. */
  @Benchmark
  public int tcpEchoFloor() throws IOException {
    tally();
    return echo.call();
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
