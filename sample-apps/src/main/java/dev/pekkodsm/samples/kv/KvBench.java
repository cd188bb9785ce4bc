package dev.pekkodsm.samples.kv;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Runs the KV workload against each system in turn, with the same node count, client threads, data
 * and key sequence: start the cluster, load every key, warm up, measure, tear the cluster down,
 * then the next system. The stale-read checker watches every operation of every phase.
 *
 * <p>Operations, throughput and messages per operation cover the measured window: at each of its
 * edges, while the clients run, the count of completed operations and the system's count of
 * messages are read one right after the other, and the operations and messages of the window are
 * the differences. Operations in flight at an edge are the only difference between the two
 * intervals (at most one per client thread). Latencies come from recorders reset at the start and
 * read at the end. Correctness counts (reads checked, stale and malformed reads, errors) cover
 * every operation of the clients, warm-up included: a fault anywhere fails the run.
 */
public final class KvBench {

  /** The systems by name, in the order they are usually compared. */
  public static final Map<String, KvSystemType> SYSTEMS = systems();

  private static final long HIGHEST_NS = TimeUnit.SECONDS.toNanos(60);
  private static final Duration STOP_GRACE = Duration.ofSeconds(30);

  private final KvSpec spec;
  private final Workload workload;
  private final PrintStream log;
  private final boolean progress;

  /**
   * A bench of {@code spec}'s data under {@code workload}; {@code log} gets one line per phase, and
   * a progress bar is drawn on standard error when {@code progress}.
   */
  public KvBench(KvSpec spec, Workload workload, PrintStream log, boolean progress) {
    this.spec = spec;
    this.workload = workload;
    this.log = log;
    this.progress = progress;
  }

  private static Map<String, KvSystemType> systems() {
    List<KvSystemType> types =
        List.of(
            new KvSystemType("dsm", true, true, DsmKv::start),
            // Each node's buckets backed up on another (pekko.dsm.replication.factor = 1).
            new KvSystemType("dsm-replicated", true, true, DsmKv::startReplicated),
            new KvSystemType("delegation", true, false, DelegationKv::start),
            new KvSystemType(HazelcastKv.NAME, true, false, HazelcastKv.factory()),
            new KvSystemType(
                HazelcastKv.NO_BACKUP_NAME, true, false, HazelcastKv.noBackupFactory()),
            // Invalidation travels asynchronously: stale reads are expected and reported.
            new KvSystemType(
                HazelcastKv.NEAR_CACHE_NAME, false, false, HazelcastKv.nearCacheFactory()),
            new KvSystemType("local", true, false, LocalKv::start));
    Map<String, KvSystemType> systems = new LinkedHashMap<>();
    for (KvSystemType type : types) {
      systems.put(type.name(), type);
    }
    return java.util.Collections.unmodifiableMap(systems);
  }

  /**
   * Runs {@code systemName} on {@code nodes} nodes, a pekko-dsm system reading over {@code
   * transport} (the others ignore it); the cluster is gone when this returns.
   */
  public KvResult run(String systemName, int nodes, DsmTransport transport) throws Exception {
    KvSystemType type = SYSTEMS.get(systemName);
    if (type == null) {
      throw new IllegalArgumentException(
          "unknown system " + systemName + "; known: " + String.join(", ", SYSTEMS.keySet()));
    }
    log.printf(
        "%s on %d node(s)%s: starting%n",
        systemName, nodes, type.dsm() ? " over " + transport.configName() : "");
    try (KvSystem system = type.factory().start(nodes, spec, transport)) {
      return run(systemName, type.linearizable(), system);
    }
  }

  /**
   * Runs the workload on a started system (closed by the caller) that does or does not promise
   * linearizable GETs.
   */
  KvResult run(String systemName, boolean linearizable, KvSystem system) throws Exception {
    StaleReadChecker checker = new StaleReadChecker(spec.keys());
    long loadStart = System.nanoTime();
    load(system, checker);
    log.printf(
        "%s: loaded %,d keys in %d ms; warming up for %s%n",
        systemName,
        spec.keys(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - loadStart),
        workload.warmup());

    KeyChooser keys = new KeyChooser(spec.keys(), workload.zipf(), workload.seed());
    Tally tally = new Tally();
    Phase phase = new Phase();
    List<Thread> threads = new ArrayList<>();
    int t = 0;
    for (int node = 0; node < system.nodes(); node++) {
      for (int i = 0; i < workload.threadsPerNode(); i++, t++) {
        Worker worker =
            new Worker(
                system.client(node),
                keys,
                new SplittableRandom(workload.seed() * 1_000_003L + t),
                checker,
                tally,
                phase);
        Thread thread = new Thread(worker, "kv-client-" + node + "-" + i);
        thread.setDaemon(true);
        threads.add(thread);
      }
    }
    threads.forEach(Thread::start);
    try {
      sleepWithProgress(systemName + " warm-up", workload.warmup());
      tally.gets.getIntervalHistogram(); // drop the warm-up's latencies
      tally.sets.getIntervalHistogram();
      long startNs = System.nanoTime();
      long opsBefore = tally.completed.sum();
      long messagesBefore = system.messagesSent();
      sleepWithProgress(systemName, workload.duration());
      long messagesAfter = system.messagesSent();
      long opsAfter = tally.completed.sum();
      double seconds = (System.nanoTime() - startNs) / 1e9;
      Histogram g = tally.gets.getIntervalHistogram();
      Histogram s = tally.sets.getIntervalHistogram();
      phase.stop();
      joinAll(threads);
      Histogram all = g.copy();
      all.add(s);
      long ops = opsAfter - opsBefore;
      double messagesPerOp =
          messagesBefore < 0 || messagesAfter < 0 || ops == 0
              ? Double.NaN
              : (messagesAfter - messagesBefore) / (double) ops;
      KvResult result =
          new KvResult(
              systemName,
              system.transport(),
              linearizable,
              system.nodes(),
              workload.threadsPerNode(),
              workload.readRatio(),
              workload.zipf(),
              spec.keys(),
              spec.valueBytes(),
              ops,
              seconds,
              ops / seconds,
              micros(all, 50),
              micros(all, 99),
              micros(all, 99.9),
              micros(g, 50),
              micros(s, 50),
              checker.reads(),
              checker.staleReads(),
              checker.malformedReads(),
              tally.errors.sum(),
              tally.firstError.get(),
              messagesPerOp);
      log.printf(
          "%s over %s: %,.0f ops/s, p50 %.1f us, p99 %.1f us, %.3f messages/op, stale reads %d%s%n",
          systemName,
          result.transport(),
          result.opsPerSec(),
          result.p50Us(),
          result.p99Us(),
          result.messagesPerOp(),
          result.staleReads(),
          result.errors() > 0
              ? ", errors " + result.errors() + " (" + result.firstError() + ")"
              : "");
      return result;
    } finally {
      phase.stop();
      joinAll(threads);
    }
  }

  /**
   * Stores every key once, from as many threads as the workload has clients. Loading takes as long
   * as it takes (100,000 remote writes on a loaded machine can take minutes); it fails if no key
   * was stored for {@link #STOP_GRACE}, since every operation has a shorter deadline of its own.
   */
  private void load(KvSystem system, StaleReadChecker checker) throws Exception {
    int loaders = Math.max(1, system.nodes() * workload.threadsPerNode());
    List<Thread> threads = new ArrayList<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    LongAdder stored = new LongAdder();
    for (int t = 0; t < loaders; t++) {
      int first = t;
      KvClient client = system.client(t % system.nodes());
      Thread thread =
          new Thread(
              () -> {
                long[] start = new long[1];
                try {
                  for (long key = first; key < spec.keys(); key += loaders) {
                    long version = checker.beginWrite(key, start);
                    client.set(key, KvValues.of(key, version, spec.valueBytes()));
                    checker.endWrite(key, version, start[0]);
                    stored.increment();
                  }
                } catch (Throwable e) {
                  failure.compareAndSet(null, e);
                }
              },
              "kv-loader-" + t);
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
    }
    long lastStored = -1;
    long lastProgressNs = System.nanoTime();
    for (Thread thread : threads) {
      while (thread.isAlive()) {
        thread.join(100);
        long now = stored.sum();
        if (now != lastStored) {
          lastStored = now;
          lastProgressNs = System.nanoTime();
        } else if (System.nanoTime() - lastProgressNs > STOP_GRACE.toNanos()) {
          throw new IllegalStateException(
              "loading stalled: no key stored for "
                  + STOP_GRACE
                  + " ("
                  + now
                  + " of "
                  + spec.keys()
                  + " stored); an operation hangs");
        }
      }
    }
    if (failure.get() != null) {
      throw new IllegalStateException("loading the keys failed: " + failure.get(), failure.get());
    }
  }

  private void sleepWithProgress(String task, Duration length) throws InterruptedException {
    long endNs = System.nanoTime() + length.toNanos();
    if (!progress || length.isZero()) {
      TimeUnit.NANOSECONDS.sleep(Math.max(0, endNs - System.nanoTime()));
      return;
    }
    try (ProgressBar bar =
        new ProgressBarBuilder()
            .setTaskName(task)
            .setInitialMax(length.toMillis())
            .setUnit(" s", 1000)
            .setStyle(ProgressBarStyle.ASCII)
            .setConsumer(new ConsoleProgressBarConsumer(System.err))
            .setUpdateIntervalMillis(250)
            .build()) {
      long started = System.nanoTime();
      while (System.nanoTime() < endNs) {
        TimeUnit.MILLISECONDS.sleep(
            Math.min(250, Math.max(1, (endNs - System.nanoTime()) / 1_000_000)));
        bar.stepTo(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
      }
      bar.stepTo(length.toMillis());
    }
  }

  private static void joinAll(List<Thread> threads) throws InterruptedException {
    long deadline = System.nanoTime() + STOP_GRACE.toNanos();
    for (Thread thread : threads) {
      thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      if (thread.isAlive()) {
        throw new IllegalStateException(
            thread.getName() + " did not stop within " + STOP_GRACE + ": an operation hangs");
      }
    }
  }

  private static double micros(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile) / 1000.0;
  }

  /** What the client threads record: latencies, completed operations, errors. */
  private static final class Tally {
    final Recorder gets = new Recorder(HIGHEST_NS, 3);
    final Recorder sets = new Recorder(HIGHEST_NS, 3);
    final LongAdder completed = new LongAdder();
    final LongAdder errors = new LongAdder();
    final AtomicReference<String> firstError = new AtomicReference<>();
  }

  /** The run's phase, read by the client threads. */
  private static final class Phase {
    private volatile boolean stopped;

    void stop() {
      stopped = true;
    }

    boolean stopped() {
      return stopped;
    }
  }

  /** One client thread: draws keys and operations, times them, and has the checker watch. */
  private final class Worker implements Runnable {
    private final KvClient client;
    private final KeyChooser keys;
    private final SplittableRandom random;
    private final StaleReadChecker checker;
    private final Tally tally;
    private final Phase phase;

    Worker(
        KvClient client,
        KeyChooser keys,
        SplittableRandom random,
        StaleReadChecker checker,
        Tally tally,
        Phase phase) {
      this.client = client;
      this.keys = keys;
      this.random = random;
      this.checker = checker;
      this.tally = tally;
      this.phase = phase;
    }

    @Override
    public void run() {
      long[] start = new long[1];
      double readRatio = workload.readRatio();
      int valueBytes = spec.valueBytes();
      while (!phase.stopped()) {
        long key = keys.next(random);
        try {
          if (random.nextDouble() < readRatio) {
            long begun = checker.beginRead(key);
            long t0 = System.nanoTime();
            byte[] value = client.get(key);
            tally.gets.recordValue(Math.min(HIGHEST_NS, System.nanoTime() - t0));
            tally.completed.increment();
            checker.endRead(key, begun, value);
          } else {
            long version = checker.beginWrite(key, start);
            byte[] value = KvValues.of(key, version, valueBytes);
            long t0 = System.nanoTime();
            client.set(key, value);
            tally.sets.recordValue(Math.min(HIGHEST_NS, System.nanoTime() - t0));
            tally.completed.increment();
            checker.endWrite(key, version, start[0]);
          }
        } catch (RuntimeException e) {
          tally.errors.increment();
          tally.firstError.compareAndSet(null, e.toString());
        }
      }
    }
  }
}
