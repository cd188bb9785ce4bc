package dev.pekkodsm.samples.kv;

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
import java.util.TreeMap;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/** Prints the comparison as a table and writes it as JSON, CSV and PNG charts. */
public final class KvReport implements BenchReport {

  private final List<KvResult> results;
  private final Map<String, Object> run;

  /**
   * A report of {@code results}; {@code run} describes the run (command, machine, workload) and
   * goes into the JSON as is.
   */
  public KvReport(List<KvResult> results, Map<String, Object> run) {
    this.results = List.copyOf(results);
    this.run = new LinkedHashMap<>(run);
  }

  /** The results. */
  public List<KvResult> results() {
    return results;
  }

  /**
   * Throughput of {@code r} over that of pekko-dsm at the same node count and read ratio (the first
   * {@code dsm} result there, so over the first transport run), or {@code NaN} when pekko-dsm was
   * not run there.
   */
  public double ratioToDsm(KvResult r) {
    for (KvResult d : results) {
      if (d.system().equals("dsm") && d.nodes() == r.nodes() && d.readRatio() == r.readRatio()) {
        return r.opsPerSec() / d.opsPerSec();
      }
    }
    return Double.NaN;
  }

  /** Prints the table. */
  @Override
  public void print(PrintStream out) {
    String header =
        String.format(
            Locale.ROOT,
            "%-20s %4s %5s %5s %12s %9s %9s %9s %8s %8s %7s %7s %8s %9s",
            "system",
            "via",
            "nodes",
            "read",
            "ops/s",
            "p50 us",
            "p99 us",
            "p999 us",
            "get p50",
            "set p50",
            "stale",
            "errors",
            "msg/op",
            "x dsm");
    ReportFiles.printHeader(out, header);
    for (KvResult r : results) {
      out.println(
          String.format(
              Locale.ROOT,
              "%-20s %4s %5d %5.2f %,12.0f %9.1f %9.1f %9.1f %8.1f %8.1f %7d %7d %8s %9s",
              r.system(),
              r.transport(),
              r.nodes(),
              r.readRatio(),
              r.opsPerSec(),
              r.p50Us(),
              r.p99Us(),
              r.p999Us(),
              r.getP50Us(),
              r.setP50Us(),
              r.staleReads(),
              r.errors(),
              Double.isNaN(r.messagesPerOp())
                  ? "n/a"
                  : String.format(Locale.ROOT, "%.3f", r.messagesPerOp()),
              ratio(ratioToDsm(r))));
    }
  }

  private static String ratio(double x) {
    return Double.isNaN(x) ? "-" : String.format(Locale.ROOT, "%.3fx", x);
  }

  /** Writes results.json, results.csv and the charts into {@code dir}; returns the files. */
  @Override
  public List<Path> write(Path dir) throws IOException {
    Files.createDirectories(dir);
    List<Path> files = new ArrayList<>();
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("run", run);
    List<Map<String, Object>> rows = new ArrayList<>();
    for (KvResult r : results) {
      Map<String, Object> row = ReportFiles.fieldsWithoutNaN(r);
      double x = ratioToDsm(r);
      row.put("ratioToDsm", Double.isNaN(x) ? null : x);
      rows.add(row);
    }
    doc.put("results", rows);
    files.add(ReportFiles.writeJson(dir, doc));

    StringBuilder b = new StringBuilder();
    b.append(
        "system,transport,linearizable,nodes,threadsPerNode,readRatio,zipf,keys,valueBytes,ops,"
            + "seconds,opsPerSec,"
            + "p50Us,p99Us,p999Us,getP50Us,setP50Us,reads,staleReads,malformedReads,errors,"
            + "messagesPerOp,ratioToDsm\n");
    for (KvResult r : results) {
      b.append(
          String.format(
              Locale.ROOT,
              "%s,%s,%b,%d,%d,%.2f,%.2f,%d,%d,%d,%.3f,%.1f,%.2f,%.2f,%.2f,%.2f,%.2f,%d,%d,%d,%d,%s,%s%n",
              r.system(),
              r.transport(),
              r.linearizable(),
              r.nodes(),
              r.threadsPerNode(),
              r.readRatio(),
              r.zipf(),
              r.keys(),
              r.valueBytes(),
              r.ops(),
              r.seconds(),
              r.opsPerSec(),
              r.p50Us(),
              r.p99Us(),
              r.p999Us(),
              r.getP50Us(),
              r.setP50Us(),
              r.reads(),
              r.staleReads(),
              r.malformedReads(),
              r.errors(),
              Double.isNaN(r.messagesPerOp())
                  ? ""
                  : String.format(Locale.ROOT, "%.4f", r.messagesPerOp()),
              Double.isNaN(ratioToDsm(r))
                  ? ""
                  : String.format(Locale.ROOT, "%.4f", ratioToDsm(r))));
    }
    files.add(ReportFiles.writeCsv(dir, b));

    files.addAll(charts(dir));
    return files;
  }

  private List<Path> charts(Path dir) throws IOException {
    List<Path> files = new ArrayList<>();
    // One throughput and one latency chart per node count and read ratio group.
    Map<String, List<KvResult>> groups = new TreeMap<>();
    for (KvResult r : results) {
      groups
          .computeIfAbsent(
              String.format(Locale.ROOT, "%dn-read%.2f", r.nodes(), r.readRatio()),
              k -> new ArrayList<>())
          .add(r);
    }
    for (Map.Entry<String, List<KvResult>> g : groups.entrySet()) {
      List<KvResult> rs = g.getValue();
      KvResult first = rs.get(0);
      String title =
          String.format(
              Locale.ROOT,
              "KV, %d nodes, %.0f%% GET, zipf %.2f, %d threads/node",
              first.nodes(),
              first.readRatio() * 100,
              first.zipf(),
              first.threadsPerNode());
      List<String> names = rs.stream().map(this::label).toList();

      CategoryChart tput =
          new CategoryChartBuilder()
              .width(900)
              .height(500)
              .title("Throughput - " + title)
              .yAxisTitle("ops/s (log)")
              .build();
      tput.getStyler().setYAxisLogarithmic(true);
      // Bars start at the axis minimum; a log axis needs one above zero.
      tput.getStyler().setYAxisMin(floor(rs.stream().map(KvResult::opsPerSec).toList()));
      tput.getStyler().setLegendVisible(false);
      tput.addSeries("ops/s", names, rs.stream().map(KvResult::opsPerSec).toList());
      files.add(ReportFiles.savePng(tput, dir, "throughput-" + g.getKey()));

      CategoryChart lat =
          new CategoryChartBuilder()
              .width(900)
              .height(500)
              .title("Latency - " + title)
              .yAxisTitle("microseconds (log)")
              .build();
      lat.getStyler().setYAxisLogarithmic(true);
      lat.getStyler()
          .setYAxisMin(
              floor(rs.stream().map(r -> positive(Math.min(r.p50Us(), r.p99Us()))).toList()));
      lat.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
      lat.addSeries("p50", names, rs.stream().map(r -> positive(r.p50Us())).toList());
      lat.addSeries("p99", names, rs.stream().map(r -> positive(r.p99Us())).toList());
      lat.addSeries("p999", names, rs.stream().map(r -> positive(r.p999Us())).toList());
      files.add(ReportFiles.savePng(lat, dir, "latency-" + g.getKey()));
    }

    // The scaling curve, when more than one node count was run.
    Map<String, Map<Integer, Double>> bySystem = new LinkedHashMap<>();
    for (KvResult r : results) {
      bySystem.computeIfAbsent(label(r), k -> new TreeMap<>()).put(r.nodes(), r.opsPerSec());
    }
    if (results.stream().map(KvResult::nodes).distinct().count() > 1) {
      XYChart scaling =
          new XYChartBuilder()
              .width(900)
              .height(500)
              .title("Throughput by node count")
              .xAxisTitle("nodes")
              .yAxisTitle("ops/s (log)")
              .build();
      scaling.getStyler().setYAxisLogarithmic(true);
      scaling.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
      for (Map.Entry<String, Map<Integer, Double>> s : bySystem.entrySet()) {
        List<Integer> xs = new ArrayList<>(s.getValue().keySet());
        List<Double> ys = new ArrayList<>(s.getValue().values());
        scaling.addSeries(s.getKey(), xs, ys);
      }
      files.add(ReportFiles.savePng(scaling, dir, "scaling"));
    }
    return files;
  }

  /**
   * The system's name in charts: with its transport when the same system was run over more than one
   * ({@code dsm/shm}, {@code dsm/tcp}).
   */
  private String label(KvResult r) {
    boolean several =
        results.stream()
                .filter(o -> o.system().equals(r.system()))
                .map(KvResult::transport)
                .distinct()
                .count()
            > 1;
    return several ? r.system() + "/" + r.transport() : r.system();
  }

  /** A power of ten below every value, for a log axis. */
  private static double floor(List<Double> values) {
    double min =
        values.stream().mapToDouble(Double::doubleValue).filter(v -> v > 0).min().orElse(1);
    return ReportFiles.logAxisMin(min);
  }

  private static double positive(double us) {
    return Double.isNaN(us) || us <= 0 ? 0.01 : us;
  }
}
