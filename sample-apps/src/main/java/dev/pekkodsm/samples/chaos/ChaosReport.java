package dev.pekkodsm.samples.chaos;

import dev.pekkodsm.samples.BenchReport;
import dev.pekkodsm.samples.ReportFiles;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Prints a chaos run's figures as a table and writes them as {@code results.json} (the run's
 * description and the result, nested) and {@code results.csv} (one row, the verdict's figures
 * flattened into it). Not thread-safe.
 */
public final class ChaosReport implements BenchReport {

  private final ChaosResult result;
  private final Map<String, Object> run;

  /**
   * A report of {@code result}; {@code run} (command, machine, start and end) goes into the JSON.
   */
  public ChaosReport(ChaosResult result, Map<String, Object> run) {
    this.result = result;
    this.run = new LinkedHashMap<>(run);
  }

  /** Prints the table. */
  @Override
  public void print(PrintStream out) {
    ChaosResult r = result;
    ChaosVerdict v = r.verdict();
    out.printf(
        Locale.ROOT,
        "chaos kv: fault %s on process %d (node %s) of %d, plus the driver; transport %s;"
            + " replication factor %d%n",
        r.fault(),
        r.victim(),
        r.victimNode(),
        r.nodes(),
        r.transport(),
        r.replication());
    out.printf(
        Locale.ROOT,
        "  %,d keys of %d B in %d buckets (%,d keys and %d buckets on the victim); %d clients in"
            + " the driver, %.0f %% GETs%n",
        r.keys(),
        r.valueBytes(),
        r.buckets(),
        r.keysOnVictim(),
        r.bucketsOnVictim(),
        r.threads(),
        r.readRatio() * 100);
    out.printf(
        Locale.ROOT,
        "  failure detector: heartbeat %d ms, acceptable pause %d ms; split brain resolver: %s,"
            + " stable-after %d ms%s%n",
        r.heartbeatIntervalMs(),
        r.acceptableHeartbeatPauseMs(),
        r.downingStrategy(),
        r.stableAfterMs(),
        Double.isNaN(r.pauseS()) ? "" : String.format(Locale.ROOT, "; pause %.0f s", r.pauseS()));
    out.printf(
        Locale.ROOT,
        "  seconds since the workload began: fault %s, unreachable %s, removed %s, resumed %s,"
            + " over %s, end %s; victim's exit: %s%n",
        at(r.faultAtS()),
        at(r.unreachableAtS()),
        at(r.removedAtS()),
        at(r.resumedAtS()),
        at(r.recoveredAtS()),
        at(r.endAtS()),
        r.victimExit());
    out.println();
    // Without a fault the windows split where it would have struck.
    double split = Double.isNaN(r.faultAtS()) ? r.recoveredAtS() : r.faultAtS();
    String header = String.format(Locale.ROOT, "%-48s %s", "figure", "value");
    ReportFiles.printHeader(out, header);
    row(
        out,
        "operations",
        "%,d (%,d returned, %,d failed, %,d never returned)",
        v.ops(),
        v.succeeded(),
        v.failed(),
        v.neverCompleted());
    row(
        out,
        "acknowledged SETs lost",
        "%,d of %,d, on %,d keys (%,d keys not checkable)",
        v.lostSets(),
        v.acknowledgedSets(),
        v.keysWithLostSets(),
        v.keysUnchecked());
    row(out, "stale reads", "%,d of %,d reads", v.staleReads(), v.reads());
    row(out, "malformed reads", "%,d", v.malformedReads());
    row(
        out,
        String.format(
            Locale.ROOT, "operations hung (> %.0f ms, or never returned)", v.deadlineMs()),
        "%,d (clients left inside one: %d)",
        v.hungOps(),
        r.clientsLeftBehind());
    row(
        out,
        "operations that took over 1 s, slowest",
        "%,d, %.1f ms",
        v.slowOps(),
        v.slowestOpMs());
    row(
        out,
        "longest unavailability of a key",
        "%s; %,d keys unavailable at the end",
        v.longestUnavailableKey() < 0
            ? "none"
            : String.format(
                Locale.ROOT,
                "%.3f s (key %d%s)",
                v.longestUnavailableMs() / 1e3,
                v.longestUnavailableKey(),
                v.longestUnavailableToEnd() ? ", until the end" : ""),
        v.keysUnavailableAtEnd());
    row(
        out,
        String.format(Locale.ROOT, "throughput before the fault [0, %s) s", at(split)),
        "%s ops/s",
        rate(v.beforeOpsPerSec()));
    row(
        out,
        String.format(
            Locale.ROOT, "throughput during it [%s, %s) s", at(split), at(r.recoveredAtS())),
        "%s ops/s",
        rate(v.duringOpsPerSec()));
    row(
        out,
        String.format(
            Locale.ROOT, "throughput after it [%s, %s) s", at(r.recoveredAtS()), at(r.endAtS())),
        "%s ops/s",
        rate(v.afterOpsPerSec()));
    row(out, "errors, on the victim's keys", "%s", kinds(r.victimKeyErrors()));
    row(out, "errors, on the other keys", "%s", kinds(r.otherKeyErrors()));
    row(out, "slowest ObjectLostException", "%.1f ms", r.slowestLostMs());
    row(
        out,
        "slowest failure on its keys after the removal",
        "%s",
        Double.isNaN(r.slowestFailAfterRemovalMs())
            ? "- (not removed)"
            : String.format(Locale.ROOT, "%.1f ms", r.slowestFailAfterRemovalMs()));
    row(
        out,
        "the driver's GC (stops the clients)",
        "%,d collections, %,d ms in all, longest %,d ms",
        r.driverGcCount(),
        r.driverGcTotalMs(),
        r.driverGcLongestMs());
    if (!r.errorMessages().isEmpty()) {
      out.println();
      new java.util.TreeMap<>(r.errorMessages())
          .forEach((kind, message) -> out.println("  first " + kind + ": " + message));
    }
    if (!v.examples().isEmpty()) {
      out.println();
      v.examples().forEach(e -> out.println("  " + e));
    }
  }

  private static void row(PrintStream out, String figure, String format, Object... args) {
    out.printf(Locale.ROOT, "%-48s %s%n", figure, String.format(Locale.ROOT, format, args));
  }

  private static String at(double seconds) {
    return Double.isNaN(seconds) ? "-" : String.format(Locale.ROOT, "%.1f", seconds);
  }

  private static String rate(double opsPerSec) {
    return Double.isNaN(opsPerSec) ? "-" : String.format(Locale.ROOT, "%,.0f", opsPerSec);
  }

  private static String kinds(Map<String, Long> kinds) {
    if (kinds.isEmpty()) {
      return "none";
    }
    return new java.util.TreeMap<>(kinds)
        .entrySet().stream()
            .map(e -> String.format(Locale.ROOT, "%s %,d", e.getKey(), e.getValue()))
            .collect(Collectors.joining(", "));
  }

  /** Writes results.json and results.csv into {@code dir}; returns the files. */
  @Override
  public List<Path> write(Path dir) throws IOException {
    Files.createDirectories(dir);
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("run", run);
    Map<String, Object> fields = ReportFiles.fieldsWithoutNaN(result);
    fields.put("verdict", ReportFiles.fieldsWithoutNaN(result.verdict()));
    doc.put("result", fields);
    List<Path> files = new ArrayList<>();
    files.add(ReportFiles.writeJson(dir, doc));
    Map<String, Object> row = ReportFiles.fieldsWithoutNaN(result);
    row.remove("verdict");
    row.putAll(ReportFiles.fieldsWithoutNaN(result.verdict()));
    row.remove("examples");
    row.replaceAll((name, value) -> value instanceof Map<?, ?> m ? csvKinds(m) : value);
    StringBuilder csv = new StringBuilder(ReportFiles.csvLine(row.keySet()));
    csv.append(ReportFiles.csvLine(row.values()));
    files.add(ReportFiles.writeCsv(dir, csv));
    return files;
  }

  /** A map of error kinds as one CSV cell: {@code ObjectLostException=12;DsmException=3}. */
  private static String csvKinds(Map<?, ?> kinds) {
    return new java.util.TreeMap<>(kinds)
        .entrySet().stream()
            .map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.joining(";"));
  }
}
