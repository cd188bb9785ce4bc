package dev.pekkodsm.benchmarks;

import dev.pekkodsm.DMut;
import dev.pekkodsm.DMutex;
import dev.pekkodsm.DsmCounters;
import dev.pekkodsm.testkit.LocalCluster;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
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
 * {@link DMutex}: a one-sided read of a 1 KiB value from a node that is not the mutex's home,
 * against a Cluster Sharding {@code ask} for the same value; and a lock, change and unlock of a
 * small counter, on the home and from the other node, with a guard ({@code lock()}) and with a
 * shipped function ({@code update(fn)}).
 *
 * <p>Why: a mutex is where the DSM has to trade one-sided access for messages. Its read promises
 * delegation's answer (the last committed value) without delegation's round trip: no message to the
 * home, no wait for a locker, just the copy out of the home's arena and the decoding, which {@link
 * ShmReadBenchmark} puts at a fraction of a microsecond for 1 KiB. Its writes are round trips, and
 * these benchmarks say how many and what they cost next to a sharding {@code ask}, the round trip a
 * Pekko user pays today to change state owned elsewhere. Sampled ({@link Mode#SampleTime}), so the
 * table has percentiles as well as the mean.
 *
 * <p>Node 0 is the home of both mutexes; node 1 holds a handle to each, sent there with {@link
 * LocalCluster#send}. The benchmarks:
 *
 * <ul>
 *   <li>{@link #readRemote}: {@code read(identity)} on node 1 of a mutex holding a {@link Payload}
 *       whose Kryo form is {@value #VALUE_BYTES} bytes; returns a freshly decoded copy each time
 *       (mutex reads are not cached: the snapshot is rewritten in place at every unlock);
 *   <li>{@link #shardingAsk}: the baseline, an {@code ask} from node 1 to an {@link EchoEntity}
 *       that lives on node 0, answered with {@value #VALUE_BYTES} bytes;
 *   <li>{@link #lockHome} and {@link #lockRemote}: {@code try (DMut<long[]> g = lock()) {
 *       ++g.get()[0]; }} on node 0 and on node 1. On the home the lock is the object's exclusive
 *       borrow, taken in place; the unlock republishes the snapshot (the counter's Kryo form,
 *       rewritten in its arena slot). From node 1 the value moves to the locker ({@code Lock},
 *       {@code Locked}) and back ({@code Unlock}, {@code Unlocked}, after the home republished it):
 *       two round trips;
 *   <li>{@link #updateHome} and {@link #updateRemote}: {@code update(c -> ++c[0])} on node 0 and
 *       node 1. The function is serialized at the call in both cases and runs on the home's task
 *       threads under the lock; from node 1 that is one round trip ({@code RunAt}, {@code
 *       TaskResult}) carrying the function one way and the result the other.
 * </ul>
 *
 * <p>One thread, so no lock is ever contended: these are the costs of the paths, not of queueing.
 * At the end of each trial the DSM messages per operation are printed ({@code DSM MESSAGES PER
 * OPERATION}, see {@link MessageTally}): 0 for a read and for the home's operations, 4 for a remote
 * lock, 2 for a remote update. Setup checks that a remote read is a one-sided read and sends
 * nothing.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 1,
    jvmArgs = {"-Xms2g", "-Xmx2g", "-XX:+UseParallelGC"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class MutexBenchmark {

  static final int VALUE_BYTES = 1024;

  private LocalCluster cluster;
  private DMutex<Payload> valueAtHome;
  private DMutex<Payload> valueOnOther;
  private DMutex<long[]> counterAtHome;
  private DMutex<long[]> counterOnOther;
  private EntityRef<EchoEntity.Command> echoAtHome;
  private MessageTally tally;

  /**
   * Starts the cluster, allocates both mutexes on node 0 and sends a handle of each to node 1,
   * finds an echo entity on node 0 asked from node 1, and runs every operation once, checking it.
   */
  @Setup(Level.Trial)
  public void start() {
    cluster = Clusters.twoNodes(EchoEntity.CONFIG);
    Payload value = Payload.withSerializedSize(cluster.dsm(0).internalNode().kryo(), VALUE_BYTES);
    Echoes.startSharding(cluster, value.bytes());
    echoAtHome = Echoes.entityOn(cluster, 1, 0);

    valueAtHome = cluster.dsm(0).mutex(value);
    valueOnOther = cluster.send(0, 1, valueAtHome.clone());
    counterAtHome = cluster.dsm(0).mutex(new long[1]);
    counterOnOther = cluster.send(0, 1, counterAtHome.clone());

    cluster.awaitQuiet(Duration.ofMillis(300));
    DsmCounters before = cluster.dsm(1).counters();
    Payload read = readRemote();
    DsmCounters during = cluster.dsm(1).counters().minus(before);
    if (!Arrays.equals(read.bytes(), value.bytes())
        || during.oneSidedReads() != 1
        || during.messagesSent() != 0) {
      throw new IllegalStateException(
          "expected a remote read to be one one-sided read and no message, returning the value;"
              + " got "
              + during);
    }
    long expected = 0;
    for (long n : new long[] {lockHome(), lockRemote(), updateHome(), updateRemote()}) {
      if (n != ++expected) {
        throw new IllegalStateException("the counter reads " + n + ", expected " + expected);
      }
    }
    if (counterOnOther.read(c -> c[0]) != expected) {
      throw new IllegalStateException("a read does not see the last unlock");
    }
    if (shardingAsk().payload().length != value.bytes().length) {
      throw new IllegalStateException("the echo entity answered with another payload");
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
                case "lockRemote" -> 4;
                case "updateRemote" -> 2;
                case "shardingAsk" -> -1;
                default -> 0;
              });
      valueOnOther.drop();
      counterOnOther.drop();
      valueAtHome.drop();
      counterAtHome.drop();
    } finally {
      cluster.close();
    }
  }

  /** A one-sided read of the last committed 1 KiB value, on a node that is not the home. */
  @Benchmark
  public Payload readRemote() {
    tally();
    return valueOnOther.read(Function.identity());
  }

  /** Baseline: a sharding ask to an entity on the home's node, answered with 1 KiB. */
  @Benchmark
  public EchoEntity.Pong shardingAsk() {
    tally();
    return Echoes.ask(echoAtHome);
  }

  /** Lock, increment, unlock, on the home. */
  @Benchmark
  public long lockHome() {
    tally();
    try (DMut<long[]> g = counterAtHome.lock()) {
      return ++g.get()[0];
    }
  }

  /** Lock, increment, unlock, from the other node: the value moves here and back. */
  @Benchmark
  public long lockRemote() {
    tally();
    try (DMut<long[]> g = counterOnOther.lock()) {
      return ++g.get()[0];
    }
  }

  /**
   * An increment as a function, from the home: with the lock free it runs on this thread, after
   * being serialized and deserialized as a shipped function would be.
   */
  @Benchmark
  public long updateHome() {
    tally();
    return counterAtHome.update(MutexBenchmark::increment);
  }

  /** An increment shipped to the home and run there under the lock, from the other node. */
  @Benchmark
  public long updateRemote() {
    tally();
    return counterOnOther.update(MutexBenchmark::increment);
  }

  private void tally() {
    if (tally != null) { // null while setup runs the operations once
      tally.op();
    }
  }

  /** The shipped function: a static method, so it captures nothing. */
  private static Long increment(long[] counter) {
    return ++counter[0];
  }
}
