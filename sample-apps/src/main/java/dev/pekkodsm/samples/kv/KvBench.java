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
 */
public final class KvBench {

  /** The systems by name, in the order they are usually compared. */
  public static final Map<String, KvSystem.Factory> SYSTEMS = systems();

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

  private static Map<String, KvSystem.Factory> systems() {
    Map<String, KvSystem.Factory> systems = new LinkedHashMap<>();
    systems.put("dsm", DsmKv::start);
    systems.put("dsm-unbatched", DsmKv::startUnbatched);
    systems.put("delegation", DelegationKv::start);
    systems.put(HazelcastKv.NAME, HazelcastKv.factory());
    systems.put(HazelcastKv.NEAR_CACHE_NAME, HazelcastKv.nearCacheFactory());
    systems.put("local", LocalKv::start);
    return java.util.Collections.unmodifiableMap(systems);
  }

  /** Runs {@code systemName} on {@code nodes} nodes; the cluster is gone when this returns. */
  public KvResult run(String systemName, int nodes) throws Exception {
    KvSystem.Factory factory = SYSTEMS.get(systemName);
    if (factory == null) {
      throw new IllegalArgumentException(
          "unknown system " + systemName + "; known: " + String.join(", ", SYSTEMS.keySet()));
    }
    log.printf("%s on %d node(s): starting%n", systemName, nodes);
    try (KvSystem system = factory.start(nodes, spec)) {
      return run(systemName, system);
    }
  }

  /** Runs the workload on a started system (closed by the caller). */
  KvResult run(String systemName, KvSystem system) throws Exception {
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
    Recorder gets = new Recorder(HIGHEST_NS, 3);
    Recorder sets = new Recorder(HIGHEST_NS, 3);
    LongAdder errors = new LongAdder();
    AtomicReference<String> firstError = new AtomicReference<>();
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
                gets,
                sets,
                errors,
                firstError,
                phase);
        Thread thread = new Thread(worker, "kv-client-" + node + "-" + i);
        thread.setDaemon(true);
        threads.add(thread);
      }
    }
    threads.forEach(Thread::start);
    try {
      sleepWithProgress(systemName + " warm-up", workload.warmup(), gets, sets);
      // Some systems take a while to count (Hazelcast's metrics lag); count before the clock.
      long messagesBefore = system.messagesSent();
      gets.getIntervalHistogram(); // drop the warm-up's latencies
      sets.getIntervalHistogram();
      long errorsBefore = errors.sum();
      long readsBefore = checker.reads();
      long staleBefore = checker.staleReads();
      long malformedBefore = checker.malformedReads();
      long started = System.nanoTime();
      sleepWithProgress(systemName, workload.duration(), gets, sets);
      Histogram g = gets.getIntervalHistogram();
      Histogram s = sets.getIntervalHistogram();
      double seconds = (System.nanoTime() - started) / 1e9;
      long messages = system.messagesSent();
      phase.stop();
      joinAll(threads);
      Histogram all = g.copy();
      all.add(s);
      long ops = all.getTotalCount();
      double messagesPerOp =
          messagesBefore < 0 || messages < 0 || ops == 0
              ? Double.NaN
              : (messages - messagesBefore) / (double) ops;
      KvResult result =
          new KvResult(
              systemName,
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
              checker.reads() - readsBefore,
              checker.staleReads() - staleBefore,
              checker.malformedReads() - malformedBefore,
              errors.sum() - errorsBefore,
              firstError.get(),
              messagesPerOp);
      log.printf(
          "%s: %,.0f ops/s, p50 %.1f us, p99 %.1f us, stale reads %d%s%n",
          systemName,
          result.opsPerSec(),
          result.p50Us(),
          result.p99Us(),
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

  private void load(KvSystem system, StaleReadChecker checker) throws Exception {
    int loaders = Math.max(1, system.nodes() * workload.threadsPerNode());
    List<Thread> threads = new ArrayList<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
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
    joinAll(threads);
    if (failure.get() != null) {
      throw new IllegalStateException("loading the keys failed: " + failure.get(), failure.get());
    }
  }

  private void sleepWithProgress(String task, Duration length, Recorder gets, Recorder sets)
      throws InterruptedException {
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
    private final Recorder gets;
    private final Recorder sets;
    private final LongAdder errors;
    private final AtomicReference<String> firstError;
    private final Phase phase;

    Worker(
        KvClient client,
        KeyChooser keys,
        SplittableRandom random,
        StaleReadChecker checker,
        Recorder gets,
        Recorder sets,
        LongAdder errors,
        AtomicReference<String> firstError,
        Phase phase) {
      this.client = client;
      this.keys = keys;
      this.random = random;
      this.checker = checker;
      this.gets = gets;
      this.sets = sets;
      this.errors = errors;
      this.firstError = firstError;
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
            gets.recordValue(Math.min(HIGHEST_NS, System.nanoTime() - t0));
            checker.endRead(key, begun, value);
          } else {
            long version = checker.beginWrite(key, start);
            byte[] value = KvValues.of(key, version, valueBytes);
            long t0 = System.nanoTime();
            client.set(key, value);
            sets.recordValue(Math.min(HIGHEST_NS, System.nanoTime() - t0));
            checker.endWrite(key, version, start[0]);
          }
        } catch (RuntimeException e) {
          errors.increment();
          firstError.compareAndSet(null, e.toString());
        }
      }
    }
  }
}
