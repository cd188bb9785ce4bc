package dev.pekkodsm.samples;

import dev.pekkodsm.samples.chaos.ChaosReport;
import dev.pekkodsm.samples.chaos.ChaosResult;
import dev.pekkodsm.samples.chaos.ChaosRun;
import dev.pekkodsm.samples.chaos.ChaosSettings;
import dev.pekkodsm.samples.chaos.ChaosVerdict;
import dev.pekkodsm.samples.chaos.Fault;
import dev.pekkodsm.samples.kv.DsmTransport;
import dev.pekkodsm.testkit.ProcessCluster;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ./dsm chaos ...}: fault-injection runs whose histories are checked afterwards. */
@Command(
    name = "chaos",
    mixinStandardHelpOptions = true,
    description = "Inject a fault into one node of a multi-JVM cluster under load, and check.",
    subcommands = {ChaosCommand.Kv.class})
final class ChaosCommand implements Callable<Integer> {

  @Override
  public Integer call() {
    CommandLine.usage(this, System.out);
    return 0;
  }

  /** {@code ./dsm chaos kv}: the KV workload across node JVMs, one of them killed or paused. */
  @Command(
      name = "kv",
      mixinStandardHelpOptions = true,
      sortOptions = false,
      description = {
        "Run the KV store (DsmKvStore) on node processes plus a driver JVM whose clients record"
            + " every operation, kill -9 or SIGSTOP one node mid-run, and check the history:"
            + " acknowledged SETs lost, stale reads, operations hung past their deadline, the"
            + " longest unavailability of a key, throughput before, during and after the fault."
            + " Prints a table and writes JSON and CSV under --results (node logs in logs/).",
        "Exit codes: 0 nothing found; 3 acknowledged SETs were lost; 4 (else) a read was stale"
            + " or malformed; 5 (else) an operation hung; 1 the run failed; 2 a usage error."
            + " With replication factor 0 a kill loses the victim's keys: exit 3 is expected.",
        "Example: ./dsm chaos kv --fault kill --nodes 3 --replication 0"
      })
  static final class Kv implements Callable<Integer> {

    /** Acknowledged SETs were lost. */
    static final int LOST = 3;

    /** A read was stale or malformed (and nothing was lost). */
    static final int STALE = 4;

    /** An operation hung past its deadline (and nothing was lost or stale). */
    static final int HUNG = 5;

    @Spec CommandSpec spec;

    @Option(
        names = "--fault",
        defaultValue = "kill",
        description =
            "kill (kill -9), pause (SIGSTOP, then SIGCONT) or none (default ${DEFAULT-VALUE})")
    String fault;

    @Option(
        names = "--nodes",
        defaultValue = "3",
        description = "node processes; the driver comes on top (default ${DEFAULT-VALUE})")
    int nodes;

    @Option(
        names = "--victim",
        description =
            "index of the process to strike, 0 to nodes-1 (default: the last; 0 is the seed)")
    Integer victim;

    @Option(
        names = "--warmup",
        defaultValue = "10s",
        converter = BenchCommand.DurationConverter.class,
        description = "workload before the fault (default ${DEFAULT-VALUE})")
    Duration warmup;

    @Option(
        names = "--pause",
        converter = BenchCommand.DurationConverter.class,
        description =
            "how long --fault pause lasts (default: twice the time the cluster's failure detector"
                + " and split brain resolver take to down a silent member, rounded up)")
    Duration pause;

    @Option(
        names = "--after",
        defaultValue = "10s",
        converter = BenchCommand.DurationConverter.class,
        description =
            "workload after the fault is over: the killed node removed, the paused one resumed"
                + " (default ${DEFAULT-VALUE})")
    Duration after;

    @Option(
        names = "--removal-timeout",
        defaultValue = "60s",
        converter = BenchCommand.DurationConverter.class,
        description =
            "longest wait for the cluster to remove the victim (default ${DEFAULT-VALUE})")
    Duration removalTimeout;

    @Option(
        names = "--replication",
        defaultValue = "0",
        description =
            "pekko.dsm.replication.factor of every node: 0 (one copy) or 1 (a backup)"
                + " (default ${DEFAULT-VALUE})")
    int replication;

    @Option(
        names = "--transport",
        defaultValue = "shm",
        description = "pekko.dsm.transport of every node: shm or tcp (default ${DEFAULT-VALUE})")
    String transport;

    @Option(
        names = "--keys",
        defaultValue = "1000",
        description = "keys (default ${DEFAULT-VALUE})")
    int keys;

    @Option(names = "--buckets", description = "buckets of the hash table (default keys/16)")
    Integer buckets;

    @Option(
        names = "--value-bytes",
        defaultValue = "64",
        description = "value size, 8 of them the version (default ${DEFAULT-VALUE})")
    int valueBytes;

    @Option(
        names = "--read-ratio",
        defaultValue = "0.5",
        description = "fraction of GETs (default ${DEFAULT-VALUE})")
    double readRatio;

    @Option(
        names = "--threads",
        defaultValue = "4",
        description = "client threads in the driver (default ${DEFAULT-VALUE})")
    int threads;

    @Option(
        names = "--slack",
        defaultValue = "2s",
        converter = BenchCommand.DurationConverter.class,
        description =
            "what an operation may take past the DSM's own deadline before it counts as hung"
                + " (default ${DEFAULT-VALUE})")
    Duration slack;

    @Option(names = "--seed", defaultValue = "42", description = "seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(
        names = "--results",
        defaultValue = "results",
        description = "folder for the run's files (default ${DEFAULT-VALUE})")
    Path results;

    @Option(
        names = "--history",
        description =
            "also write every operation to history.csv in the results folder, times in ns since"
                + " the workload began (about 60 bytes an operation; millions in a default run)")
    boolean writeHistory;

    @Option(
        names = "--node-log-level",
        description =
            "how much the node processes log into logs/node-<i>.log: warn (the default), info"
                + " (membership, downing, sharding's coordinator and regions, the DSM's reactions)"
                + " or debug; the driver's log at that level goes to logs/driver.log")
    String nodeLogLevel;

    @Option(
        names = "--smoke",
        description = "a quick run: 2 processes, 200 keys, 2 clients, 3 s before and after")
    boolean smoke;

    @Override
    public Integer call() throws Exception {
      LocalDateTime started = LocalDateTime.now();
      if (smoke) {
        nodes = 2;
        keys = 200;
        threads = 2;
        warmup = Duration.ofSeconds(3);
        after = Duration.ofSeconds(3);
      }
      ChaosSettings settings = validate();
      String loadAtStart = loadAverage();
      Path folder = BenchOptions.folder(results, "chaos-kv", started);
      PrintStream out = System.out;
      Files.createDirectories(folder);
      ChaosResult result =
          new ChaosRun(settings, out)
              .nodeLogLevel(nodeLogLevel)
              .run(folder.resolve("logs"), writeHistory ? folder.resolve("history.csv") : null);
      ChaosReport report = new ChaosReport(result, describe(started, loadAtStart));
      out.println();
      report.print(out);
      List<Path> files = report.write(folder);
      out.println();
      if (writeHistory) {
        files.add(folder.resolve("history.csv"));
      }
      out.println("Wrote " + files.size() + " files to " + folder + " (node logs in logs/):");
      files.forEach(f -> out.println("  " + f.getFileName()));
      return exitCode(result.verdict(), spec.commandLine().getErr());
    }

    /** Every option checked before anything starts: one line per mistake, exit code 2. */
    private ChaosSettings validate() {
      Fault f = Cli.usage(spec, () -> Fault.of(fault));
      DsmTransport t = Cli.usage(spec, () -> DsmTransport.of(transport));
      Cli.check(spec, nodes >= 2 && nodes <= 16, "--nodes %d: must be 2 to 16", nodes);
      int v = victim != null ? victim : nodes - 1;
      Cli.check(
          spec, v >= 0 && v < nodes, "--victim %d: must be 0 to %d (--nodes - 1)", v, nodes - 1);
      Cli.check(
          spec,
          replication == 0 || replication == 1,
          "--replication %d: must be 0 (one copy) or 1 (a backup)",
          replication);
      Cli.check(
          spec,
          readRatio >= 0 && readRatio <= 1,
          "--read-ratio %s: must be within [0, 1]",
          readRatio);
      Cli.check(spec, keys >= 1, "--keys %d: must be at least 1", keys);
      Cli.check(spec, threads >= 1, "--threads %d: must be at least 1", threads);
      if (nodeLogLevel != null) {
        Cli.usage(spec, () -> ProcessCluster.LogLevel.of(nodeLogLevel));
      }
      return Cli.usage(
          spec,
          () ->
              new ChaosSettings(
                  nodes,
                  f,
                  v,
                  warmup,
                  pause,
                  after,
                  removalTimeout,
                  keys,
                  buckets != null ? buckets : Math.max(1, keys / 16),
                  valueBytes,
                  readRatio,
                  threads,
                  t,
                  replication,
                  slack,
                  seed));
    }

    /**
     * 0 if the checker found nothing, else {@link #LOST}, {@link #STALE} or {@link #HUNG} (the
     * first that applies), with every finding printed to {@code err}.
     */
    static int exitCode(ChaosVerdict verdict, PrintWriter err) {
      List<String> found = verdict.violations();
      if (found.isEmpty()) {
        return 0;
      }
      err.println();
      err.println("FAILED: the checker found:");
      found.forEach(v -> err.println("  " + v));
      err.flush();
      if (verdict.lostSets() > 0) {
        return LOST;
      }
      return verdict.staleReads() > 0 || verdict.malformedReads() > 0 ? STALE : HUNG;
    }

    /** The host's load averages (1, 5, 15 min), or {@code n/a} off Linux. */
    private static String loadAverage() {
      try {
        String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
        return fields[0] + " " + fields[1] + " " + fields[2];
      } catch (java.io.IOException | RuntimeException e) {
        return "n/a";
      }
    }

    private Map<String, Object> describe(LocalDateTime started, String loadAtStart) {
      Map<String, Object> run = new LinkedHashMap<>();
      run.put(
          "command",
          "./dsm " + String.join(" ", spec.commandLine().getParseResult().originalArgs()));
      run.put("started", started.toString());
      run.put("finished", LocalDateTime.now().toString());
      run.put("warmup", warmup.toString());
      run.put("after", after.toString());
      run.put("pauseOption", pause == null ? null : pause.toString());
      run.put("slack", slack.toString());
      run.put(
          "java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
      run.put("cpus", Runtime.getRuntime().availableProcessors());
      run.put("cpu", BenchCommand.Kv.cpuModel());
      run.put("maxHeapMiB", Runtime.getRuntime().maxMemory() >> 20);
      run.put("loadAverageAtStart", loadAtStart);
      run.put("loadAverageAtEnd", loadAverage());
      return run;
    }
  }
}
