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
 * {@link DMutex}: one-sided reads of a 1 KiB value from a node that is not the mutex's home, of a
 * version that node has read before and of a new one, against a Cluster Sharding {@code ask} for
 * the same value; and a lock, change and unlock of a small counter, on the home and from the other
 * node, with a guard ({@code lock()}) and with a shipped function ({@code update(fn)}).
 *
 * <p>Why: a mutex is where the DSM has to trade one-sided access for messages. Its read promises
 * delegation's answer (the last committed value) without delegation's round trip: no message to the
 * home, no wait for a locker. A read first takes the slot's header under the seqlock; if this node
 * has decoded that version before, that is all, and the decoded value is reused. Otherwise it
 * copies the whole slot out of the home's arena, checks it and decodes it. Its writes are round
 * trips, and these benchmarks say how many and what they cost next to a sharding {@code ask}, the
 * round trip a Pekko user pays today to change state owned elsewhere. Sampled ({@link
 * Mode#SampleTime}), so the table has percentiles as well as the mean.
 *
 * <p>Node 0 is the home of both mutexes; node 1 holds a handle to each, sent there with {@link
 * LocalCluster#send}. The benchmarks:
 *
 * <ul>
 *   <li>{@link #readUnchanged}: {@code read(identity)} on node 1 of a mutex holding a {@link
 *       Payload} whose Kryo form is {@value #VALUE_BYTES} bytes, a version node 1 has read before
 *       (nothing commits between reads): a peek at the slot's header, which finds the version, and
 *       the cached decoded value; no copy of the value, no CRC, no decoding;
 *   <li>{@link #readChanged}: the same read after the home committed a new version (one byte of the
 *       payload changed under {@code lock()} on node 0): the header peek finds a version node 1 has
 *       not decoded, so the read copies the 1 KiB slot, checks it (seqlock, header, CRC32C),
 *       decodes it and caches it. The commit runs before every invocation in a {@link
 *       Level#Invocation} setup ({@link NewVersion}), outside the measured time: JMH timestamps
 *       each invocation around the benchmark method only. The home's commit does leave the slot's
 *       cache lines written by another core, which a reader of a changed value meets in practice
 *       too;
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
 * lock, 2 for a remote update. Setup checks that each read is one one-sided read and sends nothing,
 * the unchanged one a header and a cache hit, the changed one the whole slot and a decode; the end
 * of each read trial prints how many of its reads were cache hits ({@code READS SERVED FROM THE
 * CACHE}: all for {@code readUnchanged}, none for {@code readChanged}).
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
  private DsmCounters readerBefore;

  /** Before every invocation of {@link #readChanged}, untimed: the home commits a new version. */
  @State(Scope.Thread)
  public static class NewVersion {
    /** Changes one byte of the value under the lock on its home; the unlock republishes it. */
    @Setup(Level.Invocation)
    public void commit(MutexBenchmark benchmark) {
      benchmark.commitNewVersion();
    }
  }

  /**
   * Starts the cluster, allocates both mutexes on node 0 and sends a handle of each to node 1,
   * finds an echo entity on node 0 asked from node 1, and runs every operation once, checking it.
   */
  @Setup(Level.Trial)
  public void start() {
    cluster = Clusters.twoNodes(EchoEntity.CONFIG);
    Payload value = Payload.withSerializedSize(cluster.dsm(0).internalNode().kryo(), VALUE_BYTES);
    byte[] committed = value.bytes().clone(); // the DSM owns value from the next line on
    Echoes.startSharding(cluster, committed.clone());
    echoAtHome = Echoes.entityOn(cluster, 1, 0);

    valueAtHome = cluster.dsm(0).mutex(value);
    valueOnOther = cluster.send(0, 1, valueAtHome.clone());
    counterAtHome = cluster.dsm(0).mutex(new long[1]);
    counterOnOther = cluster.send(0, 1, counterAtHome.clone());

    cluster.awaitQuiet(Duration.ofMillis(300));
    checkRead("a first read", committed, false);
    checkRead("an unchanged read", committed, true);
    commitNewVersion();
    committed[0]++;
    checkRead("a changed read", committed, false);
    checkRead("an unchanged read", committed, true);
    long expected = 0;
    for (long n : new long[] {lockHome(), lockRemote(), updateHome(), updateRemote()}) {
      if (n != ++expected) {
        throw new IllegalStateException("the counter reads " + n + ", expected " + expected);
      }
    }
    if (counterOnOther.read(c -> c[0]) != expected) {
      throw new IllegalStateException("a read does not see the last unlock");
    }
    if (shardingAsk().payload().length != committed.length) {
      throw new IllegalStateException("the echo entity answered with another payload");
    }
    tally = new MessageTally(cluster);
    tally.start();
    readerBefore = cluster.dsm(1).counters();
  }

  /**
   * Reads on node 1 and checks the value and what the read did: one one-sided read, no message, and
   * a cache hit (only the header read) or a decode (the whole slot read).
   */
  private void checkRead(String what, byte[] expected, boolean cacheHit) {
    DsmCounters before = cluster.dsm(1).counters();
    Payload read = valueOnOther.read(Function.identity());
    DsmCounters during = cluster.dsm(1).counters().minus(before);
    boolean wholeSlot = during.bytesRead() > VALUE_BYTES;
    if (!Arrays.equals(read.bytes(), expected)
        || during.oneSidedReads() != 1
        || during.messagesSent() != 0
        || (during.cacheHits() == 1) != cacheHit
        || wholeSlot == cacheHit) {
      throw new IllegalStateException(
          "expected "
              + what
              + " to be one one-sided read, no message, "
              + (cacheHit ? "a header and a cache hit" : "the whole slot and a decode")
              + ", returning the value; got "
              + during);
    }
  }

  /** Changes the value on its home under the lock; the unlock commits and republishes it. */
  void commitNewVersion() {
    try (DMut<Payload> g = valueAtHome.lock()) {
      g.get().bytes()[0]++;
    }
  }

  /**
   * Prints messages per operation (and, for the reads, how many were served from the cache), drops
   * the handles and stops the cluster.
   */
  @TearDown(Level.Trial)
  public void stop(BenchmarkParams params) {
    try {
      String benchmark = params.getBenchmark();
      if (benchmark.endsWith(".readUnchanged") || benchmark.endsWith(".readChanged")) {
        DsmCounters reader = cluster.dsm(1).counters().minus(readerBefore);
        boolean unchanged = benchmark.endsWith(".readUnchanged");
        long expected = unchanged ? tally.ops() : 0;
        System.out.printf(
            "%nREADS SERVED FROM THE CACHE of %s: %d of %d (%s)%n",
            benchmark.substring(benchmark.lastIndexOf('.') + 1),
            reader.cacheHits(),
            tally.ops(),
            reader.cacheHits() == expected
                ? "as designed: " + (unchanged ? "all" : "none")
                : "UNEXPECTED: expected " + expected);
      }
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

  /**
   * A one-sided read of the last committed 1 KiB value, on a node that is not the home, of a
   * version this node has decoded before: a header peek and the cached value.
   */
  @Benchmark
  public Payload readUnchanged() {
    tally();
    return valueOnOther.read(Function.identity());
  }

  /**
   * The same read of a version this node has not decoded yet (the home committed a new one before
   * the invocation, untimed): a copy of the whole slot, its checks and decoding.
   */
  @Benchmark
  public Payload readChanged(NewVersion newVersion) {
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
