package dev.pekkodsm.samples.gemm;

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

/** Prints the GEMM comparison as a table and writes it as JSON, CSV and PNG charts. */
public final class GemmReport implements BenchReport {

  private final List<GemmResult> results;
  private final Map<String, Object> run;

  /** A report of {@code results}; {@code run} describes the run and goes into the JSON as is. */
  public GemmReport(List<GemmResult> results, Map<String, Object> run) {
    this.results = List.copyOf(results);
    this.run = new LinkedHashMap<>(run);
  }

  /**
   * Time of {@code r} over that of pekko-dsm's blocked product ({@code dsm}) on the same nodes and
   * shape: above 1, pekko-dsm was faster by that factor. {@code NaN} if {@code dsm} was not run.
   */
  public double timeOverDsm(GemmResult r) {
    for (GemmResult d : results) {
      if (d.system().equals("dsm")
          && d.nodes() == r.nodes()
          && d.size() == r.size()
          && d.tile() == r.tile()) {
        return r.seconds() / d.seconds();
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
            "%-14s %5s %6s %5s %9s %8s %12s %9s %8s %9s",
            "system",
            "nodes",
            "n",
            "tile",
            "seconds",
            "GFLOP/s",
            "MB moved",
            "messages",
            "check",
            "time/dsm");
    ReportFiles.printHeader(out, header);
    for (GemmResult r : results) {
      out.println(
          String.format(
              Locale.ROOT,
              "%-14s %5d %6d %5d %9.2f %8.2f %12s %9s %8s %9s",
              r.system(),
              r.nodes(),
              r.size(),
              r.tile(),
              r.seconds(),
              r.gflops(),
              r.bytesMoved() < 0
                  ? "n/a"
                  : String.format(Locale.ROOT, "%,.1f", r.bytesMoved() / 1e6),
              r.messages() < 0 ? "n/a" : String.format(Locale.ROOT, "%,d", r.messages()),
              r.correct() ? "ok" : "WRONG",
              Double.isNaN(timeOverDsm(r))
                  ? "-"
                  : String.format(Locale.ROOT, "%.2fx", timeOverDsm(r))));
    }
  }

  /** Writes results.json, results.csv and the charts into {@code dir}; returns the files. */
  @Override
  public List<Path> write(Path dir) throws IOException {
    Files.createDirectories(dir);
    List<Path> files = new ArrayList<>();
    List<Map<String, Object>> rows = new ArrayList<>();
    StringBuilder csv = new StringBuilder();
    List<String> columns = ReportFiles.fieldNames(GemmResult.class);
    columns.add("timeOverDsm");
    csv.append(ReportFiles.csvLine(columns));
    for (GemmResult r : results) {
      Map<String, Object> row = ReportFiles.fields(r);
      double x = timeOverDsm(r);
      row.put("timeOverDsm", Double.isNaN(x) ? null : x);
      rows.add(row);
      csv.append(ReportFiles.csvLine(row.values()));
    }
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("run", run);
    doc.put("results", rows);
    files.add(ReportFiles.writeJson(dir, doc));
    files.add(ReportFiles.writeCsv(dir, csv));
    files.addAll(charts(dir));
    return files;
  }

  private List<Path> charts(Path dir) throws IOException {
    List<Path> files = new ArrayList<>();
    Map<String, List<GemmResult>> groups = new TreeMap<>();
    for (GemmResult r : results) {
      groups
          .computeIfAbsent(
              String.format(Locale.ROOT, "%dn-%d-tile%d", r.nodes(), r.size(), r.tile()),
              k -> new ArrayList<>())
          .add(r);
    }
    for (Map.Entry<String, List<GemmResult>> g : groups.entrySet()) {
      List<GemmResult> rs = g.getValue();
      GemmResult first = rs.get(0);
      CategoryChart chart =
          new CategoryChartBuilder()
              .width(900)
              .height(500)
              .title(
                  String.format(
                      Locale.ROOT,
                      "GEMM %d x %d, tiles of %d, %d nodes: time to completion",
                      first.size(),
                      first.size(),
                      first.tile(),
                      first.nodes()))
              .yAxisTitle("seconds")
              .build();
      chart.getStyler().setLegendVisible(false);
      chart.addSeries(
          "seconds",
          rs.stream().map(GemmResult::system).toList(),
          rs.stream().map(GemmResult::seconds).toList());
      files.add(ReportFiles.savePng(chart, dir, "time-" + g.getKey()));
    }
    if (results.stream()
            .filter(r -> !r.system().equals("local"))
            .map(GemmResult::nodes)
            .distinct()
            .count()
        > 1) {
      XYChart scaling =
          new XYChartBuilder()
              .width(900)
              .height(500)
              .title("GFLOP/s by node count")
              .xAxisTitle("nodes")
              .yAxisTitle("GFLOP/s")
              .build();
      scaling.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
      Map<String, Map<Integer, Double>> bySystem = new LinkedHashMap<>();
      for (GemmResult r : results) {
        bySystem.computeIfAbsent(r.system(), k -> new TreeMap<>()).put(r.nodes(), r.gflops());
      }
      for (Map.Entry<String, Map<Integer, Double>> s : bySystem.entrySet()) {
        scaling.addSeries(
            s.getKey(),
            new ArrayList<>(s.getValue().keySet()),
            new ArrayList<>(s.getValue().values()));
      }
      files.add(ReportFiles.savePng(scaling, dir, "scaling"));
    }
    return files;
  }
}
