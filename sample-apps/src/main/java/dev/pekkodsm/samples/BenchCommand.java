package dev.pekkodsm.samples;

import dev.pekkodsm.samples.gemm.GemmCommand;
import dev.pekkodsm.samples.kv.DsmTransport;
import dev.pekkodsm.samples.kv.KvBench;
import dev.pekkodsm.samples.kv.KvGate;
import dev.pekkodsm.samples.kv.KvReport;
import dev.pekkodsm.samples.kv.KvResult;
import dev.pekkodsm.samples.kv.KvSpec;
import dev.pekkodsm.samples.kv.KvValues;
import dev.pekkodsm.samples.kv.Workload;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ./dsm bench ...}: the comparison harnesses. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Compare pekko-dsm with the systems a JVM user would pick instead.",
    subcommands = {
      BenchCommand.Kv.class,
      GemmCommand.class,
      dev.pekkodsm.samples.dataframe.DataFrameCommand.class,
      dev.pekkodsm.samples.socialnet.SocialNetCommand.class
    })
final class BenchCommand implements Callable<Integer> {

  @Override
  public Integer call() {
    CommandLine.usage(this, System.out);
    return 0;
  }

  /** {@code ./dsm bench kv}: the KV store on every system, side by side. */
  @Command(
      name = "kv",
      mixinStandardHelpOptions = true,
      sortOptions = false,
      description = {
        "Run the YCSB-style KV workload on each system in turn (same nodes, threads, data and key"
            + " sequence; each system in a JVM of its own, torn down before the next starts),"
            + " print a table, and write JSON, CSV and PNG charts under --results. Exits 3,"
            + " naming each, if any system failed an operation or returned malformed bytes, or a"
            + " linearizable one (all but hazelcast-nearcache) returned a stale value.",
        "Example: ./dsm bench kv --nodes 3 --read-ratio 0.9,1.0 --duration 20s"
      })
  static final class Kv implements Callable<Integer> {

    /** The exit code of a run in which a system broke a {@link KvGate} condition. */
    static final int GATE_FAILED = 3;

    @Spec CommandSpec spec;

    @Option(
        names = "--systems",
        split = ",",
        defaultValue = "dsm,delegation,hazelcast,hazelcast-nobackup,hazelcast-nearcache,local",
        description =
            "systems to run, in order (default ${DEFAULT-VALUE}; known: dsm, dsm-replicated,"
                + " delegation, hazelcast, hazelcast-nobackup, hazelcast-nearcache, local)")
    List<String> systems;

    @Option(
        names = "--transport",
        split = ",",
        defaultValue = "shm",
        description =
            "how the pekko-dsm nodes read each other (pekko.dsm.transport): shm, tcp, or both"
                + " (shm,tcp runs each dsm system once per transport; the others use loopback TCP"
                + " regardless) (default ${DEFAULT-VALUE})")
    List<String> transports;

    @Option(
        names = "--nodes",
        split = ",",
        defaultValue = "3",
        description =
            "node counts; several (1,2,3,4) draw the scaling curve (default ${DEFAULT-VALUE})")
    List<Integer> nodes;

    @Option(
        names = "--read-ratio",
        split = ",",
        defaultValue = "0.9",
        description =
            "fractions of GETs, one run per value: 0.9 DRust, 0.5 YCSB A, 0.95 B, 1.0 C"
                + " (default ${DEFAULT-VALUE})")
    List<Double> readRatios;

    @Option(
        names = "--zipf",
        defaultValue = "0.99",
        description = "zipfian constant, 0 for uniform keys (default ${DEFAULT-VALUE})")
    double zipf;

    @Option(
        names = "--keys",
        defaultValue = "100000",
        description = "keys (default ${DEFAULT-VALUE})")
    int keys;

    @Option(
        names = "--value-bytes",
        defaultValue = "256",
        description = "value size, 8 of them the version (default ${DEFAULT-VALUE})")
    int valueBytes;

    @Option(
        names = "--buckets",
        description = "buckets of the hash table (entities for delegation); default keys/16")
    Integer buckets;

    @Option(
        names = "--threads",
        defaultValue = "4",
        description = "client threads per node (default ${DEFAULT-VALUE})")
    int threads;

    @Option(
        names = "--warmup",
        defaultValue = "5s",
        converter = DurationConverter.class,
        description = "warm-up per run, e.g. 5s, 500ms, 1m (default ${DEFAULT-VALUE})")
    Duration warmup;

    @Option(
        names = "--duration",
        defaultValue = "20s",
        converter = DurationConverter.class,
        description = "measured time per run (default ${DEFAULT-VALUE})")
    Duration duration;

    @Option(names = "--seed", defaultValue = "42", description = "seed (default ${DEFAULT-VALUE})")
    long seed;

    @Mixin BenchOptions common;

    @Option(
        names = "--smoke",
        description = "a quick check of every system: 1,000 keys, 2 threads, 1 s + 2 s")
    boolean smoke;

    @Option(names = "--no-progress", description = "no progress bar")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
      LocalDateTime started = LocalDateTime.now();
      if (smoke) {
        keys = 1000;
        valueBytes = 64;
        threads = 2;
        warmup = Duration.ofSeconds(1);
        duration = Duration.ofSeconds(2);
      }
      validate();
      common.leaveWithParent();
      KvSpec spec =
          new KvSpec(keys, valueBytes, buckets != null ? buckets : Math.max(1, keys / 16));
      List<DsmTransport> dsmTransports = new ArrayList<>();
      for (String t : transports) {
        dsmTransports.add(DsmTransport.of(t)); // checked by validate()
      }
      List<KvResult> all = new ArrayList<>();
      for (int n : nodes) {
        for (double readRatio : readRatios) {
          Workload workload = new Workload(readRatio, zipf, threads, warmup, duration, seed);
          KvBench bench = new KvBench(spec, workload, System.out, !noProgress);
          for (String system : systems) {
            List<DsmTransport> runs =
                KvBench.SYSTEMS.get(system).dsm() ? dsmTransports : dsmTransports.subList(0, 1);
            for (DsmTransport transport : runs) {
              all.add(
                  common.inThisJvm()
                      ? bench.run(system, n, transport)
                      : forked(system, n, readRatio, spec, transport));
            }
          }
        }
      }
      if (common.forkedChild()) {
        common.writeResult(all.get(0));
        return 0;
      }
      common.publish(new KvReport(all, describe(spec, started)), "kv", started);
      return exitCode(all, System.err);
    }

    /** Every option checked before anything starts: one line per mistake, exit code 2. */
    private void validate() {
      for (String s : systems) {
        Cli.check(
            spec,
            KvBench.SYSTEMS.containsKey(s),
            "unknown system %s; known: %s",
            s,
            String.join(", ", KvBench.SYSTEMS.keySet()));
      }
      for (String t : transports) {
        Cli.option(spec, "--transport", () -> DsmTransport.of(t));
      }
      for (int n : nodes) {
        Cli.check(spec, n >= 1 && n <= 64, "--nodes %d: must be 1 to 64", n);
      }
      for (double r : readRatios) {
        Cli.check(
            spec, r >= 0 && r <= 1, "--read-ratio %s: must be within [0, 1] (0.9 = 90 %% GETs)", r);
      }
      Cli.check(
          spec, zipf >= 0 && zipf < 1, "--zipf %s: must be within [0, 1) (0 = uniform)", zipf);
      Cli.check(spec, keys >= 1, "--keys %d: must be at least 1", keys);
      Cli.check(
          spec,
          valueBytes >= KvValues.HEADER_BYTES,
          "--value-bytes %d: must be at least %d (the version every value carries)",
          valueBytes,
          KvValues.HEADER_BYTES);
      Cli.check(spec, buckets == null || buckets >= 1, "--buckets %s: must be at least 1", buckets);
      Cli.check(spec, threads >= 1, "--threads %d: must be at least 1", threads);
      Cli.check(
          spec, !warmup.isNegative(), "--warmup %d ms: must not be negative", warmup.toMillis());
      Cli.check(
          spec,
          !duration.isNegative() && !duration.isZero(),
          "--duration %d ms: must be more than 0",
          duration.toMillis());
    }

    /**
     * 0 if every result meets the {@link KvGate} conditions, else {@link #GATE_FAILED}, with each
     * broken condition printed to {@code err}.
     */
    static int exitCode(List<KvResult> results, PrintStream err) {
      List<String> violations = KvGate.violations(results);
      if (violations.isEmpty()) {
        return 0;
      }
      err.println();
      err.println("FAILED: these results must not be published:");
      violations.forEach(v -> err.println("  " + v));
      return GATE_FAILED;
    }

    /** Runs one system in a fresh JVM of its own ({@link ForkedJvm}). */
    private KvResult forked(
        String system, int n, double readRatio, KvSpec spec, DsmTransport transport)
        throws IOException, InterruptedException {
      List<String> args =
          new ArrayList<>(
              List.of(
                  "bench",
                  "kv",
                  "--systems=" + system,
                  "--transport=" + transport.configName(),
                  "--nodes=" + n,
                  "--read-ratio=" + readRatio,
                  "--zipf=" + zipf,
                  "--keys=" + spec.keys(),
                  "--value-bytes=" + spec.valueBytes(),
                  "--buckets=" + spec.buckets(),
                  "--threads=" + threads,
                  "--warmup=" + warmup.toMillis() + "ms",
                  "--duration=" + duration.toMillis() + "ms",
                  "--seed=" + seed));
      if (noProgress) {
        args.add("--no-progress");
      }
      Duration limit = Duration.ofMinutes(2).plus(warmup.plus(duration).multipliedBy(4));
      return ForkedJvm.run(system, args, KvResult.class, limit);
    }

    private Map<String, Object> describe(KvSpec spec, LocalDateTime started) {
      Map<String, Object> run = new LinkedHashMap<>();
      run.put("started", started.toString());
      run.put("finished", LocalDateTime.now().toString());
      run.put("systems", systems);
      run.put("dsmTransports", transports);
      run.put("nodes", nodes);
      run.put("readRatios", readRatios);
      run.put("zipf", zipf);
      run.put("keys", spec.keys());
      run.put("valueBytes", spec.valueBytes());
      run.put("buckets", spec.buckets());
      run.put("threadsPerNode", threads);
      run.put("warmup", warmup.toString());
      run.put("duration", duration.toString());
      run.put("jvmPerSystem", !common.inProcess());
      run.put("seed", seed);
      run.put(
          "java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
      run.put("cpus", Runtime.getRuntime().availableProcessors());
      run.put("cpu", cpuModel());
      run.put("maxHeapMiB", Runtime.getRuntime().maxMemory() >> 20);
      return run;
    }

    static String cpuModel() {
      try {
        for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
          if (line.startsWith("model name")) {
            return line.substring(line.indexOf(':') + 1).trim();
          }
        }
      } catch (IOException | RuntimeException e) {
        // not Linux: the arch will do
      }
      return System.getProperty("os.arch");
    }
  }

  /** Parses {@code 20s}, {@code 500ms}, {@code 2m}, or an ISO-8601 duration. */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      String v = value.trim().toLowerCase(Locale.ROOT);
      try {
        if (v.endsWith("ms")) {
          return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
        }
        if (v.endsWith("s")) {
          return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)));
        }
        if (v.endsWith("m")) {
          return Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1)));
        }
        return Duration.parse(value);
      } catch (RuntimeException e) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not a duration; use e.g. 20s, 500ms, 2m");
      }
    }
  }
}
