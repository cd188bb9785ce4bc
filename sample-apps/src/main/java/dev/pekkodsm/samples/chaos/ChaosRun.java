package dev.pekkodsm.samples.chaos;

import dev.pekkodsm.Dsm;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.samples.kv.DsmKvStore;
import dev.pekkodsm.testkit.NodeConfig;
import dev.pekkodsm.testkit.ProcessCluster;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs the KV workload on a cluster of separate node JVMs ({@link ProcessCluster}), injects a fault
 * into one of them mid-run, and checks the history afterwards ({@link ChaosChecker}).
 *
 * <p>The clients run in the driver's JVM, a member of the cluster that the fault never strikes: the
 * clients keep running across the fault whatever it does to the nodes, and every operation's
 * invocation and return are taken on one clock, so the checker can order them. The store's buckets
 * are spread round-robin over every member, the driver included, so the victim homes about one
 * bucket in {@code nodes + 1}; a GET of the victim's data is a one-sided read of its memory, a SET
 * a one-sided lock, write and commit there, as from any other member.
 *
 * <p>Each phase prints one line to {@code log}: the settings (failure detection, downing, the
 * deadline of an operation, the pause), the fault and what the driver saw of it.
 */
public final class ChaosRun {

  /** How long the final reads may retry a key whose read failed with a transient error. */
  static final Duration FINAL_READS = Duration.ofSeconds(10);

  private static final Duration LOAD_LIMIT = Duration.ofMinutes(2);

  private final ChaosSettings settings;
  private final PrintStream log;
  private String nodeLogLevel;

  /** A run of {@code settings}, printing its progress to {@code log}. */
  public ChaosRun(ChaosSettings settings, PrintStream log) {
    this.settings = settings;
    this.log = log;
  }

  /**
   * Has the node processes log at {@code level} ({@link ProcessCluster.Builder#nodeLogLevel}), and
   * the driver too, into {@code driver.log} beside the nodes' logs; {@code null} (the default)
   * leaves them at warnings.
   *
   * @throws IllegalArgumentException if {@code level} is not error, warn, info or debug
   */
  public ChaosRun nodeLogLevel(String level) {
    this.nodeLogLevel = level == null ? null : ProcessCluster.LogLevel.of(level).name();
    return this;
  }

  /**
   * The pause a {@link Fault#PAUSE} lasts unless told: twice the longest the cluster's settings
   * take to down a silent member ({@link NodeConfig.Failover#downedAfter}), rounded up to a second,
   * so that the pause is surely past the failure detector and the split brain resolver, with time
   * left for gossip and the removal on a busy host.
   */
  public static Duration defaultPause(NodeConfig.Failover failover) {
    long ms = failover.downedAfter().multipliedBy(2).toMillis();
    return Duration.ofSeconds((ms + 999) / 1000);
  }

  /**
   * Starts the cluster, runs, injects the fault, checks, and tears the cluster down.
   *
   * @param logs where the node processes' configurations and logs go (kept), or {@code null} for a
   *     temporary folder
   * @throws IllegalStateException if the cluster does not come up or the keys cannot be loaded
   */
  public ChaosResult run(Path logs) throws Exception {
    return run(logs, null);
  }

  /**
   * {@link #run(Path)}, writing the whole history as CSV to {@code historyCsv} too (about 60 bytes
   * an operation), unless it is {@code null}.
   */
  public ChaosResult run(Path logs, Path historyCsv) throws Exception {
    ChaosSettings s = settings;
    ProcessCluster.Builder builder =
        ProcessCluster.withProcesses(s.nodes())
            .config(
                "pekko.dsm.transport = "
                    + s.transport().configName()
                    + "\npekko.dsm.replication.factor = "
                    + s.replication());
    if (logs != null) {
      builder.logs(logs);
    }
    if (nodeLogLevel != null) {
      builder.nodeLogLevel(nodeLogLevel);
    }
    log.printf("starting %d node processes and the driver%n", s.nodes());
    DriverLog driverLog =
        nodeLogLevel != null && logs != null
            ? new DriverLog(logs.resolve("driver.log"), nodeLogLevel)
            : null;
    try (ProcessCluster cluster = builder.start()) {
      return run(cluster, historyCsv);
    } finally {
      if (driverLog != null) {
        driverLog.close();
      }
    }
  }

  private ChaosResult run(ProcessCluster cluster, Path historyCsv) throws Exception {
    ChaosSettings s = settings;
    Dsm driver = cluster.driver();
    NodeConfig.Failover failover = cluster.failover();
    String strategy =
        cluster
            .driverSystem()
            .settings()
            .config()
            .getString("pekko.cluster.split-brain-resolver.active-strategy");
    Duration dsmDeadline = driver.internalNode().settings().blockingBudget();
    Duration deadline = dsmDeadline.plus(s.slack());
    Duration pause = s.pause() != null ? s.pause() : defaultPause(failover);
    log.printf(
        Locale.ROOT,
        "failure detector: heartbeat every %d ms, unreachable after %d ms of silence;"
            + " split brain resolver: %s after %d ms stable (a silent member downed after about"
            + " %.1f s)%n",
        failover.heartbeatInterval().toMillis(),
        failover.acceptableHeartbeatPause().toMillis(),
        strategy,
        failover.stableAfter().toMillis(),
        failover.downedAfter().toMillis() / 1e3);
    log.printf(
        Locale.ROOT,
        "an operation hangs past %d ms (the DSM's blocking budget, %d ms, plus %d ms of slack)%s%n",
        deadline.toMillis(),
        dsmDeadline.toMillis(),
        s.slack().toMillis(),
        s.fault() == Fault.PAUSE
            ? String.format(
                Locale.ROOT,
                "; pause %d s%s",
                pause.toSeconds(),
                s.pause() == null ? " (twice the time to down a silent member)" : "")
            : "");

    DsmKvStore<Long, byte[]> store = DsmKvStore.create(driver, s.buckets());
    NodeId victim = cluster.nodeId(s.victim());
    Set<Long> victimKeys = new HashSet<>();
    for (long key = 0; key < s.keys(); key++) {
      if (store.homeOf(key).equals(victim)) {
        victimKeys.add(key);
      }
    }
    int victimBuckets = 0;
    for (int b = 0; b < s.buckets(); b++) {
      victimBuckets += store.table().nodeOf(b).equals(victim) ? 1 : 0;
    }
    History history = new History();
    ChaosClients clients = new ChaosClients(store, history, s.keys(), s.valueBytes());
    clients.load(s.threads(), LOAD_LIMIT);
    long startNs = history.nowNs();
    log.printf(
        "loaded %,d keys (%d buckets, %d of them and %,d keys on process %d, node %s);"
            + " %d clients in the driver run for %s before the fault%n",
        s.keys(),
        s.buckets(),
        victimBuckets,
        victimKeys.size(),
        s.victim(),
        victim.hex(),
        s.threads(),
        s.warmup());
    clients.start(s.threads(), s.readRatio(), s.seed());
    long faultNs;
    long resumedNs = -1;
    long recoveredNs;
    long endNs;
    int leftBehind;
    String victimExit = "running";
    DriverGc gc = new DriverGc();
    VictimWatch watch = new VictimWatch(cluster.driverSystem(), victim, history, startNs, log);
    try {
      sleepUntil(history, startNs + s.warmup().toNanos());
      faultNs = history.nowNs();
      switch (s.fault()) {
        case KILL -> {
          cluster.kill(s.victim());
          say(history, startNs, "killed process %d (kill -9)", s.victim());
          recoveredNs = awaitRemoval(watch, history, startNs);
        }
        case PAUSE -> {
          cluster.pause(s.victim());
          say(history, startNs, "paused process %d (kill -STOP) for %s", s.victim(), pause);
          sleepUntil(history, faultNs + pause.toNanos());
          cluster.resume(s.victim());
          resumedNs = history.nowNs();
          say(history, startNs, "resumed process %d (kill -CONT)", s.victim());
          recoveredNs = awaitSettled(watch, history, resumedNs);
        }
        default -> recoveredNs = faultNs;
      }
      sleepUntil(history, recoveredNs + s.after().toNanos());
      endNs = history.nowNs();
      leftBehind = clients.stop(deadline);
      say(history, startNs, "workload stopped; reading every key");
      clients.readAll(FINAL_READS);
      if (s.fault() != Fault.NONE && watch.removedNs() >= 0) {
        try {
          victimExit = String.valueOf(cluster.awaitExit(s.victim(), Duration.ofSeconds(20)));
        } catch (IllegalStateException e) {
          victimExit = "running";
        }
      }
    } finally {
      watch.close();
      gc.close();
      clients.stop(Duration.ofMillis(100)); // at once, if a fault could not be injected
    }
    List<Op> ops = history.ops();
    if (historyCsv != null) {
      writeHistory(ops, startNs, historyCsv);
    }
    ChaosVerdict verdict =
        ChaosChecker.check(
            ops, new Timeline(startNs, faultNs, recoveredNs, endNs), deadline.toNanos());
    return new ChaosResult(
        s.fault().optionName(),
        s.nodes(),
        s.victim(),
        victim.hex(),
        victimBuckets,
        victimKeys.size(),
        s.keys(),
        s.buckets(),
        s.valueBytes(),
        s.readRatio(),
        s.threads(),
        s.transport().configName(),
        s.replication(),
        s.seed(),
        failover.heartbeatInterval().toMillis(),
        failover.acceptableHeartbeatPause().toMillis(),
        failover.stableAfter().toMillis(),
        strategy,
        dsmDeadline.toMillis(),
        s.slack().toMillis(),
        s.fault() == Fault.PAUSE ? pause.toMillis() / 1e3 : Double.NaN,
        s.fault() == Fault.NONE ? Double.NaN : since(startNs, faultNs),
        since(startNs, watch.unreachableNs()),
        since(startNs, watch.removedNs()),
        since(startNs, resumedNs),
        since(startNs, recoveredNs),
        since(startNs, endNs),
        victimExit,
        leftBehind,
        ChaosChecker.errorKinds(ops, victimKeys::contains),
        ChaosChecker.errorKinds(ops, key -> !victimKeys.contains(key)),
        ChaosChecker.slowestFailureMs(ops, "ObjectLostException"),
        watch.removedNs() < 0
            ? Double.NaN
            : ChaosChecker.slowestFailureMs(ops, victimKeys::contains, watch.removedNs()),
        history.firstMessages(),
        gc.collections(),
        gc.totalMs(),
        gc.longestMs(),
        verdict);
  }

  /** Waits for the killed victim's removal; returns when it was removed, or when waiting ended. */
  private long awaitRemoval(VictimWatch watch, History history, long startNs)
      throws InterruptedException {
    if (watch.awaitRemoval(settings.removalTimeout())) {
      return watch.removedNs();
    }
    say(history, startNs, "the victim was not removed within %s", settings.removalTimeout());
    return history.nowNs();
  }

  /**
   * After a resume: if the driver still sees the victim unreachable, waits until it is removed or
   * reachable again (up to the removal timeout). Returns when the fault was over.
   */
  private long awaitSettled(VictimWatch watch, History history, long resumedNs)
      throws InterruptedException {
    long limit = System.nanoTime() + settings.removalTimeout().toNanos();
    while (watch.removedNs() < 0 && watch.unreachableNow() && System.nanoTime() < limit) {
      TimeUnit.MILLISECONDS.sleep(VictimWatch.POLL_MS);
    }
    long removed = watch.removedNs();
    return Math.max(resumedNs, removed >= 0 ? removed : history.nowNs());
  }

  /**
   * The history as CSV, one operation a line, times in nanoseconds since the workload began at
   * {@code startNs} (the load's are negative); an operation that never returned has no completion.
   */
  private static void writeHistory(List<Op> ops, long startNs, Path file)
      throws java.io.IOException {
    try (var out = java.nio.file.Files.newBufferedWriter(file)) {
      out.write("client,key,kind,value,invokeNs,completeNs,error\n");
      for (Op op : ops) {
        out.write(
            op.client()
                + ","
                + op.key()
                + ","
                + op.kind()
                + ","
                + op.value()
                + ","
                + (op.invokeNs() - startNs)
                + ","
                + (op.completed() ? String.valueOf(op.completeNs() - startNs) : "")
                + ","
                + (op.error() == null ? "" : op.error())
                + "\n");
      }
    }
  }

  private void say(History history, long startNs, String format, Object... args) {
    log.printf(
        Locale.ROOT,
        "%+8.3f s: %s%n",
        since(startNs, history.nowNs()),
        String.format(Locale.ROOT, format, args));
  }

  private static double since(long startNs, long ns) {
    return ns < 0 ? Double.NaN : (ns - startNs) / 1e9;
  }

  private static void sleepUntil(History history, long ns) throws InterruptedException {
    long left;
    while ((left = ns - history.nowNs()) > 0) {
      TimeUnit.NANOSECONDS.sleep(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
    }
  }
}
