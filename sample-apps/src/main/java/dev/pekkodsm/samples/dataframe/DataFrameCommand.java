package dev.pekkodsm.samples.dataframe;

import dev.pekkodsm.samples.BenchOptions;
import dev.pekkodsm.samples.ForkedJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ./dsm bench dataframe}: db-benchmark's group-by questions on every system. */
@Command(
    name = "dataframe",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Answer db-benchmark's ten group-by questions over its G1 table on each system in turn (the"
          + " same table, generated once into --data-dir; each system in a JVM of its own), check"
          + " every answer against DuckDB's, print a table, and write JSON, CSV and PNG charts"
          + " under --results.",
      "Example: ./dsm bench dataframe --nodes 3 --rows 1e7 --questions q1,q10"
    })
public final class DataFrameCommand implements Callable<Integer> {

  @Option(
      names = "--systems",
      split = ",",
      defaultValue = "duckdb,dsm,delegation,hazelcast",
      description =
          "systems to run, in order (default ${DEFAULT-VALUE}); duckdb is the correctness oracle")
  List<String> systems;

  @Option(
      names = "--nodes",
      defaultValue = "3",
      description = "nodes of the distributed systems (default ${DEFAULT-VALUE})")
  int nodes;

  @Option(
      names = "--rows",
      defaultValue = "1e7",
      description = "rows of the table: 1e6, 1e7, 1e8, ... (default ${DEFAULT-VALUE})")
  String rows;

  @Option(
      names = "--k",
      defaultValue = "100",
      description = "levels of id1, id2, id4, id5; rows/k of id3, id6 (default ${DEFAULT-VALUE})")
  int k;

  @Option(
      names = "--questions",
      split = ",",
      defaultValue = "all",
      description = "questions to ask: q1 .. q10, or all (default ${DEFAULT-VALUE})")
  List<String> questions;

  @Option(
      names = "--runs",
      defaultValue = "2",
      description = "runs of each question; the fastest counts (default ${DEFAULT-VALUE})")
  int runs;

  @Option(
      names = "--data-dir",
      defaultValue = "data",
      description = "where the generated table is cached (default ${DEFAULT-VALUE})")
  Path dataDir;

  @Option(
      names = "--data-file",
      description = "a table file written earlier (its rows and k are read from it)")
  Path dataFile;

  @Option(
      names = "--seed",
      defaultValue = "108",
      description = "seed of a newly generated table (default ${DEFAULT-VALUE})")
  long seed;

  @Mixin BenchOptions common;

  @Option(names = "--smoke", description = "a quick check of every system: 1e6 rows, one run")
  boolean smoke;

  @Option(names = "--no-progress", description = "no progress bar")
  boolean noProgress;

  @Override
  public Integer call() throws Exception {
    if (smoke) {
      rows = "1e6";
      runs = 1;
    }
    List<Question> asked = common.validate(this::validate);
    GroupByShape shape =
        common.validate(
            () ->
                dataFile != null
                    ? GroupByTable.shapeOf(dataFile)
                    : new GroupByShape(GroupByShape.parseCount(rows), k));
    common.leaveWithParent();
    Path file = dataFile != null ? dataFile : GroupByTable.fileFor(dataDir, shape);
    if (dataFile == null && !Files.exists(file)) {
      System.out.println("Generating " + shape + " into " + file + " (once; later runs reuse it)");
    }
    if (dataFile == null) {
      GroupByTable.ensure(dataDir, shape, seed);
    }
    DfBench bench = new DfBench(file, shape, asked, runs, System.out, !noProgress);
    List<DfResult> all = new ArrayList<>();
    List<String> failed = new ArrayList<>();
    for (String system : systems) {
      if (common.inThisJvm()) {
        all.add(bench.run(system, nodes));
        continue;
      }
      try {
        all.add(forked(system, file));
      } catch (IllegalStateException e) {
        // One system failing must not lose the others' figures: report it and go on.
        System.err.println(e.getMessage() + "; going on without it");
        failed.add(system);
      }
    }
    if (all.isEmpty()) {
      System.err.println("No system finished: " + failed);
      return 1;
    }
    if (common.forkedChild()) {
      common.writeResult(all.get(0));
      return 0;
    }
    DfReport report = new DfReport(DfBench.check(all), describe(shape, file));
    common.publish(report, "dataframe", LocalDateTime.now());
    if (!failed.isEmpty()) {
      System.err.println("These systems failed and are not in the report: " + failed);
    }
    if (!report.allAnswersMatch()) {
      System.err.println("Some answers differ from DuckDB's: see the answers column.");
      return 1;
    }
    return failed.isEmpty() ? 0 : 1;
  }

  /**
   * Checks the systems, node count, runs and questions before anything starts.
   *
   * @return the questions to ask
   * @throws IllegalArgumentException saying what is wrong
   */
  private List<Question> validate() {
    for (String s : systems) {
      if (!DfBench.SYSTEMS.containsKey(s)) {
        throw new IllegalArgumentException(
            "unknown system " + s + "; known: " + String.join(", ", DfBench.SYSTEMS.keySet()));
      }
    }
    if (nodes < 1) {
      throw new IllegalArgumentException("--nodes=" + nodes + " must be at least 1");
    }
    if (runs < 1) {
      throw new IllegalArgumentException("--runs=" + runs + " must be at least 1");
    }
    return Question.parse(questions);
  }

  /** Runs one system in a fresh JVM of its own ({@link ForkedJvm}). */
  private DfResult forked(String system, Path file) throws IOException, InterruptedException {
    List<String> args =
        new ArrayList<>(
            List.of(
                "bench",
                "dataframe",
                "--systems=" + system,
                "--nodes=" + nodes,
                "--data-file=" + file.toAbsolutePath(),
                "--questions=" + String.join(",", questions),
                "--runs=" + runs));
    if (noProgress) {
      args.add("--no-progress");
    }
    return ForkedJvm.run(system, args, DfResult.class, Duration.ofHours(2));
  }

  private Map<String, Object> describe(GroupByShape shape, Path file) {
    Map<String, Object> run = new LinkedHashMap<>();
    run.put("started", LocalDateTime.now().toString());
    run.put("table", shape.name());
    run.put("rows", shape.rows());
    run.put("k", shape.k());
    run.put("dataFile", file.toAbsolutePath().toString());
    run.put("systems", systems);
    run.put("nodes", nodes);
    run.put("questions", questions);
    run.put("runs", runs);
    run.put("jvmPerSystem", !common.inProcess());
    run.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    run.put("cpus", Runtime.getRuntime().availableProcessors());
    run.put("maxHeapMiB", Runtime.getRuntime().maxMemory() >> 20);
    return run;
  }
}
