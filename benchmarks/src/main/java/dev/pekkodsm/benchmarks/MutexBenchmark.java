package dev.pekkodsm.benchmarks;

import dev.pekkodsm.DMut;
import dev.pekkodsm.DMutex;
import dev.pekkodsm.DsmCounters;
import dev.pekkodsm.testkit.LocalCluster;
import java.io.IOException;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * {@link DMutex} between two nodes, over the {@code shm} and the {@code tcp} transport: one-sided
 * reads of a 1 KiB value from a node that is not the mutex's home, of a version that node has read
 * before and of a new one; lock, change and unlock of that 1 KiB value and of a small counter, on
 * the home and from the other node, with a guard ({@code lock()}) and as a function ({@code
 * update(fn)}); against a Cluster Sharding {@code ask} for the same value and, for tcp, the floor
 * of one loopback round trip of the same size.
 *
 * <p>Why: a mutex is where a DSM must make shared mutable state cheap. Its lock word and value live
 * in the home's sync region, so every node locks, reads, commits and unlocks one-sided while nobody
 * else holds the lock: over {@code shm} with the CPU's atomic instructions on a shared mapping (no
 * message, no CPU at the home), over {@code tcp} with requests the home's read server performs on
 * its own threads. The targets: a remote lock + change(1 KiB) + unlock under 10 us at p50 over shm,
 * and within 3x the echo floor over tcp. Sampled ({@link Mode#SampleTime}), so the table has
 * percentiles as well as the mean.
 *
 * <p>Node 0 is the home of both mutexes; node 1 holds a handle to each, sent there with {@link
 * LocalCluster#send}. The benchmarks:
 *
 * <ul>
 *   <li>{@link #readUnchanged}: {@code read(identity)} on node 1 of a mutex holding a {@link
 *       Payload} whose Kryo form is {@value #VALUE_BYTES} bytes, a version node 1 has read before:
 *       the word and the slot's version (over tcp one request, no frame), and the cached decoded
 *       value;
 *   <li>{@link #readChanged}: the same read after the home committed a new version (one byte of the
 *       payload changed under {@code lock()} on node 0, in an untimed {@link Level#Invocation}
 *       setup, {@link NewVersion}): the slot copied, checked and decoded;
 *   <li>{@link #lockChangeRemote}: {@code lock()} of the 1 KiB value on node 1, one byte changed,
 *       unlock: the lock word's compare-and-exchange from the word the handle last saw, with the
 *       slot that word names read in the same operation (its frame only if the home changed it,
 *       which it does not here), then the new frame written into the inactive slot and the word
 *       flipped; over tcp two requests;
 *   <li>{@link #lockHome} and {@link #lockRemote}: {@code try (DMut<long[]> g = lock()) {
 *       ++g.get()[0]; }} on node 0 and on node 1;
 *   <li>{@link #updateHome} and {@link #updateRemote}: {@code update(c -> ++c[0])} on node 0 and
 *       node 1: with the lock free the function runs on the caller (serialized and deserialized as
 *       a shipped one would be), then commits as a lock does;
 *   <li>{@link #shardingAsk}: what a Pekko user pays today, an {@code ask} from node 1 to an {@link
 *       EchoEntity} on node 0 answered with {@value #VALUE_BYTES} bytes;
 *   <li>{@link #tcpEchoFloor}: one blocking loopback round trip of a request and a {@value
 *       #VALUE_BYTES}-byte reply, one server thread per connection, nothing parsed.
 * </ul>
 *
 * <p>One thread, so no lock is ever contended: these are the costs of the paths, not of queueing.
 * At the end of each trial the DSM messages per operation are printed ({@code DSM MESSAGES PER
 * OPERATION}, see {@link MessageTally}): 0 for every DSM operation. Setup checks that each read is
 * one one-sided read and sends nothing, the unchanged one a cache hit, the changed one the whole
 * slot and a decode, and that a remote lock, change and unlock sends nothing; the end of each read
 * trial prints how many of its reads were cache hits ({@code READS SERVED FROM THE CACHE}: all for
 * {@code readUnchanged}, none for {@code readChanged}).
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

  /** The tcp transport's request for a mutex read: a 24-byte header, the object and a version. */
  static final int READ_REQUEST_BYTES = 40;

  /** The transport between the two nodes (they share a host: {@code tcp} forces the socket). */
  @Param({"shm", "tcp"})
  public String transport;

  private LocalCluster cluster;
  private DMutex<Payload> valueAtHome;
  private DMutex<Payload> valueOnOther;
  private DMutex<long[]> counterAtHome;
  private DMutex<long[]> counterOnOther;
  private EntityRef<EchoEntity.Command> echoAtHome;
  private EchoServer echoServer;
  private EchoServer.Client echo;
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
  public void start() throws IOException {
    cluster = Clusters.twoNodes(EchoEntity.CONFIG + "\npekko.dsm.transport = " + transport);
    Payload value = Payload.withSerializedSize(cluster.dsm(0).internalNode().kryo(), VALUE_BYTES);
    byte[] committed = value.bytes().clone(); // the DSM owns value from the next line on
    Echoes.startSharding(cluster, committed.clone());
    echoAtHome = Echoes.entityOn(cluster, 1, 0);
    echoServer = EchoServer.start(READ_REQUEST_BYTES, committed);
    echo = echoServer.connect();

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
    if (tcpEchoFloor() != committed.length) {
      throw new IllegalStateException("the echo server answered with another payload");
    }
    cluster.awaitQuiet(Duration.ofMillis(300));
    DsmCounters before = cluster.dsm(1).counters();
    byte changed = lockChangeRemote();
    DsmCounters spent = cluster.dsm(1).counters().minus(before);
    if (spent.messagesSent() != 0
        || spent.oneSidedWrites() != 1
        || spent.tcpRequests() != (transport.equals("tcp") ? 2 : 0)) {
      throw new IllegalStateException(
          "a remote lock, change and unlock should write one-sided, send nothing and cost two"
              + " requests over tcp: "
              + spent);
    }
    committed[1] = changed;
    checkRead("a read after the remote commit", committed, false); // caches the version read on
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
  public void stop(BenchmarkParams params) throws IOException {
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
                case "shardingAsk", "tcpEchoFloor" -> -1;
                default -> 0;
              });
      valueOnOther.drop();
      counterOnOther.drop();
      valueAtHome.drop();
      counterAtHome.drop();
    } finally {
      echo.close();
      echoServer.close();
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

  /**
   * Lock of the 1 KiB value from the other node, one byte changed, unlock: one-sided while nobody
   * else holds the lock.
   */
  @Benchmark
  public byte lockChangeRemote() {
    tally();
    try (DMut<Payload> g = valueOnOther.lock()) {
      return ++g.get().bytes()[1];
    }
  }

  /** Floor of a remote operation over tcp: one echo of a request and a 1 KiB reply. */
  @Benchmark
  public int tcpEchoFloor() throws IOException {
    tally();
    return echo.call();
  }

  /** Lock, increment, unlock, on the home. */
  @Benchmark
  public long lockHome() {
    tally();
    try (DMut<long[]> g = counterAtHome.lock()) {
      return ++g.get()[0];
    }
  }

  /** Lock, increment, unlock, from the other node: one-sided. */
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

  /**
   * An increment as a function, from the other node: with the lock free it runs on this thread
   * (serialized and deserialized as a shipped function would be) and commits one-sided.
   */
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
