package dev.pekkodsm.samples.dataframe;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Runs the group-by questions on one system: start it and load the table, measure memory, then ask
 * every question {@code runs} times (db-benchmark asks each twice), keeping each run's time and the
 * last answer's digest; then tear the system down. {@link #check} compares every system's answers
 * with DuckDB's.
 */
public final class DfBench {

  /** DuckDB's name: the oracle. */
  public static final String ORACLE = "duckdb";

  /** The systems by name, in the order they are usually compared. */
  public static final Map<String, FrameSystem.Factory> SYSTEMS = systems();

  private final Path file;
  private final GroupByShape shape;
  private final List<Question> questions;
  private final int runs;
  private final PrintStream log;
  private final boolean progress;

  /**
   * A bench over the table in {@code file}; {@code log} gets one line per phase and question, and a
   * progress bar is drawn on standard error when {@code progress}.
   */
  public DfBench(
      Path file,
      GroupByShape shape,
      List<Question> questions,
      int runs,
      PrintStream log,
      boolean progress) {
    if (runs < 1) {
      throw new IllegalArgumentException("runs=" + runs + " must be >= 1");
    }
    this.file = file;
    this.shape = shape;
    this.questions = List.copyOf(questions);
    this.runs = runs;
    this.log = log;
    this.progress = progress;
  }

  private static Map<String, FrameSystem.Factory> systems() {
    Map<String, FrameSystem.Factory> systems = new LinkedHashMap<>();
    systems.put(ORACLE, DuckDbFrame::start);
    systems.put("dsm", DsmFrame::start);
    systems.put("delegation", DelegationFrame::start);
    systems.put("hazelcast", HazelcastFrame::start);
    return Collections.unmodifiableMap(systems);
  }

  /** Runs {@code systemName} on {@code nodes} nodes; the system is gone when this returns. */
  public DfResult run(String systemName, int nodes) throws Exception {
    FrameSystem.Factory factory = SYSTEMS.get(systemName);
    if (factory == null) {
      throw new IllegalArgumentException(
          "unknown system " + systemName + "; known: " + String.join(", ", SYSTEMS.keySet()));
    }
    log.printf("%s on %d node(s): starting and loading %s%n", systemName, nodes, shape);
    long started = System.nanoTime();
    try (FrameSystem system = factory.start(nodes, file, shape)) {
      double loadSeconds = (System.nanoTime() - started) / 1e9;
      System.gc();
      double heapMiB =
          ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (1024.0 * 1024);
      double offHeapMiB = system.offHeapBytes() / (1024.0 * 1024);
      double rssMiB = residentMiB();
      log.printf(
          "%s: loaded in %.1f s; heap %.0f MiB, off-heap %.0f MiB, resident %.0f MiB%n",
          systemName, loadSeconds, heapMiB, offHeapMiB, rssMiB);
      List<DfResult.QuestionResult> results = new ArrayList<>();
      try (ProgressBar bar = progress ? bar(systemName) : null) {
        for (Question q : questions) {
          List<Double> seconds = new ArrayList<>();
          Answer answer = null;
          for (int run = 0; run < runs; run++) {
            FrameSystem.Answered a = system.answer(q);
            answer = a.answer();
            seconds.add(a.nanos() / 1e9);
            if (bar != null) {
              bar.step();
            }
          }
          results.add(
              new DfResult.QuestionResult(
                  q.id(),
                  seconds,
                  answer.rows(),
                  answer.digest(),
                  systemName.equals(ORACLE) ? "oracle" : "unchecked"));
          log.printf(
              "%s %s: %s s, %,d rows%n",
              systemName,
              q.id(),
              String.join(" / ", seconds.stream().map(s -> String.format("%.3f", s)).toList()),
              answer.rows());
        }
      }
      return new DfResult(
          systemName,
          system.nodes(),
          shape.rows(),
          shape.k(),
          loadSeconds,
          heapMiB,
          offHeapMiB,
          rssMiB,
          results);
    }
  }

  private ProgressBar bar(String systemName) {
    return new ProgressBarBuilder()
        .setTaskName(systemName)
        .setInitialMax((long) questions.size() * runs)
        .setUnit(" runs", 1)
        .setStyle(ProgressBarStyle.ASCII)
        .setConsumer(new ConsoleProgressBarConsumer(System.err))
        .setUpdateIntervalMillis(250)
        .build();
  }

  /**
   * Every result with each answer checked against DuckDB's of the same question: {@code ok} or
   * {@code MISMATCH: what differs}; all {@code unchecked} when DuckDB is not among the results.
   */
  public static List<DfResult> check(List<DfResult> results) {
    DfResult oracle =
        results.stream().filter(r -> r.system().equals(ORACLE)).findFirst().orElse(null);
    if (oracle == null) {
      return results;
    }
    List<DfResult> out = new ArrayList<>();
    for (DfResult r : results) {
      if (r == oracle) {
        out.add(r);
        continue;
      }
      List<DfResult.QuestionResult> checked = new ArrayList<>();
      for (DfResult.QuestionResult q : r.questions()) {
        DfResult.QuestionResult expected = oracle.question(q.question());
        if (expected == null) {
          checked.add(q);
          continue;
        }
        String mismatch = expected.digest().mismatch(q.digest());
        checked.add(q.withCheck(mismatch == null ? "ok" : "MISMATCH: " + mismatch));
      }
      out.add(r.withQuestions(checked));
    }
    return out;
  }

  /** The JVM's resident set in MiB (Linux), or NaN. */
  static double residentMiB() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return Double.NaN;
  }
}
