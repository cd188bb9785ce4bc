package dev.pekkodsm.samples.dataframe;

import dev.pekkodsm.samples.BenchReport;
import dev.pekkodsm.samples.ReportFiles;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * Prints the comparison as a table (a row per question, a column per system, then pekko-dsm's time
 * over each peer's) and writes it as JSON, CSV and PNG charts.
 */
public final class DfReport implements BenchReport {

  private static final String DSM = "dsm";

  private final List<DfResult> results;
  private final Map<String, Object> run;

  /** A report of checked {@code results}; {@code run} describes the run and goes into the JSON. */
  public DfReport(List<DfResult> results, Map<String, Object> run) {
    this.results = List.copyOf(results);
    this.run = new LinkedHashMap<>(run);
  }

  /** The results. */
  public List<DfResult> results() {
    return results;
  }

  /** True when no answer differs from DuckDB's. */
  public boolean allAnswersMatch() {
    return results.stream()
        .flatMap(r -> r.questions().stream())
        .noneMatch(q -> q.check().startsWith("MISMATCH"));
  }

  /** pekko-dsm's fastest time on {@code question} over {@code system}'s, or NaN. */
  public double dsmOver(String system, String question) {
    DfResult dsm = find(DSM);
    DfResult peer = find(system);
    if (dsm == null
        || peer == null
        || dsm.question(question) == null
        || peer.question(question) == null) {
      return Double.NaN;
    }
    return dsm.question(question).bestSeconds() / peer.question(question).bestSeconds();
  }

  /** pekko-dsm's total over {@code system}'s, over the questions both ran, or NaN. */
  public double dsmOverTotal(String system) {
    DfResult dsm = find(DSM);
    DfResult peer = find(system);
    if (dsm == null || peer == null) {
      return Double.NaN;
    }
    return dsm.totalSeconds() / peer.totalSeconds();
  }

  private DfResult find(String system) {
    return results.stream().filter(r -> r.system().equals(system)).findFirst().orElse(null);
  }

  private List<String> peers() {
    return results.stream().map(DfResult::system).filter(s -> !s.equals(DSM)).toList();
  }

  private Set<String> questions() {
    Set<String> qs = new LinkedHashSet<>();
    results.forEach(r -> r.questions().forEach(q -> qs.add(q.question())));
    return qs;
  }

  /** Prints the table. */
  @Override
  public void print(PrintStream out) {
    boolean ratios = find(DSM) != null;
    StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "%-9s", "seconds"));
    for (DfResult r : results) {
      header.append(String.format(Locale.ROOT, " %12s", r.system()));
    }
    if (ratios) {
      for (String p : peers()) {
        header.append(String.format(Locale.ROOT, " %14s", "dsm/" + p));
      }
    }
    header.append("  answers");
    ReportFiles.printHeader(out, header);
    for (String q : questions()) {
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-9s", q));
      for (DfResult r : results) {
        DfResult.QuestionResult qr = r.question(q);
        line.append(
            String.format(Locale.ROOT, " %12s", qr == null ? "-" : seconds(qr.bestSeconds())));
      }
      if (ratios) {
        for (String p : peers()) {
          line.append(String.format(Locale.ROOT, " %14s", ratio(dsmOver(p, q))));
        }
      }
      line.append("  ").append(checks(q));
      out.println(line);
    }
    out.println("-".repeat(header.length()));
    StringBuilder total = new StringBuilder(String.format(Locale.ROOT, "%-9s", "total"));
    for (DfResult r : results) {
      total.append(String.format(Locale.ROOT, " %12s", seconds(r.totalSeconds())));
    }
    if (ratios) {
      for (String p : peers()) {
        total.append(String.format(Locale.ROOT, " %14s", ratio(dsmOverTotal(p))));
      }
    }
    out.println(total);
    row(out, "load s", r -> String.format(Locale.ROOT, "%.1f", r.loadSeconds()));
    row(out, "heap MiB", r -> String.format(Locale.ROOT, "%.0f", r.heapMiB()));
    row(out, "offheap", r -> String.format(Locale.ROOT, "%.0f", r.offHeapMiB()));
    row(out, "RSS MiB", r -> String.format(Locale.ROOT, "%.0f", r.rssMiB()));
    row(out, "nodes", r -> Integer.toString(r.nodes()));
  }

  private void row(PrintStream out, String label, java.util.function.Function<DfResult, String> f) {
    StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-9s", label));
    for (DfResult r : results) {
      line.append(String.format(Locale.ROOT, " %12s", f.apply(r)));
    }
    out.println(line);
  }

  private String checks(String question) {
    List<String> bad = new ArrayList<>();
    boolean checked = false;
    for (DfResult r : results) {
      DfResult.QuestionResult q = r.question(question);
      if (q == null) {
        continue;
      }
      if (q.check().equals("ok")) {
        checked = true;
      } else if (q.check().startsWith("MISMATCH")) {
        bad.add(r.system() + " " + q.check());
      }
    }
    if (!bad.isEmpty()) {
      return String.join("; ", bad);
    }
    return checked ? "= duckdb" : "unchecked";
  }

  private static String seconds(double s) {
    return Double.isNaN(s) ? "-" : String.format(Locale.ROOT, "%.3f", s);
  }

  private static String ratio(double x) {
    return Double.isNaN(x) ? "-" : String.format(Locale.ROOT, "%.2fx", x);
  }

  /** Writes results.json, results.csv and the charts into {@code dir}; returns the files. */
  @Override
  public List<Path> write(Path dir) throws IOException {
    Files.createDirectories(dir);
    List<Path> files = new ArrayList<>();
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("run", run);
    doc.put("results", results);
    Map<String, Object> ratios = new LinkedHashMap<>();
    if (find(DSM) != null) {
      for (String p : peers()) {
        Map<String, Object> perQuestion = new LinkedHashMap<>();
        for (String q : questions()) {
          double x = dsmOver(p, q);
          perQuestion.put(q, Double.isNaN(x) ? null : x);
        }
        double t = dsmOverTotal(p);
        perQuestion.put("total", Double.isNaN(t) ? null : t);
        ratios.put("dsm/" + p, perQuestion);
      }
    }
    doc.put("ratios", ratios);
    files.add(ReportFiles.writeJson(dir, doc));

    StringBuilder b = new StringBuilder();
    b.append("system,nodes,rows,k,question,bestSeconds,runSeconds,answerRows,check,dsmOverThis\n");
    for (DfResult r : results) {
      for (DfResult.QuestionResult q : r.questions()) {
        double x = dsmOver(r.system(), q.question());
        b.append(
            String.format(
                Locale.ROOT,
                "%s,%d,%d,%d,%s,%.4f,%s,%d,%s,%s%n",
                r.system(),
                r.nodes(),
                r.rows(),
                r.k(),
                q.question(),
                q.bestSeconds(),
                q.seconds().stream()
                    .map(s -> String.format(Locale.ROOT, "%.4f", s))
                    .collect(Collectors.joining(";")),
                q.answerRows(),
                q.check().replace(',', ';'),
                Double.isNaN(x) ? "" : String.format(Locale.ROOT, "%.4f", x)));
      }
      double t = dsmOverTotal(r.system());
      b.append(
          String.format(
              Locale.ROOT,
              "%s,%d,%d,%d,total,%.4f,,,,%s%n",
              r.system(),
              r.nodes(),
              r.rows(),
              r.k(),
              r.totalSeconds(),
              Double.isNaN(t) ? "" : String.format(Locale.ROOT, "%.4f", t)));
    }
    files.add(ReportFiles.writeCsv(dir, b));
    files.addAll(charts(dir));
    return files;
  }

  private List<Path> charts(Path dir) throws IOException {
    List<Path> files = new ArrayList<>();
    DfResult first = results.get(0);
    String title =
        String.format(
            Locale.ROOT,
            "db-benchmark group-by, %s, %d nodes",
            new GroupByShape(first.rows(), first.k()).name(),
            results.stream().mapToInt(DfResult::nodes).max().orElse(1));
    List<String> qs = new ArrayList<>(questions());
    CategoryChart times =
        new CategoryChartBuilder()
            .width(1100)
            .height(550)
            .title("Time per question - " + title)
            .yAxisTitle("seconds (log)")
            .build();
    times.getStyler().setYAxisLogarithmic(true);
    times.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
    double min = Double.MAX_VALUE;
    for (DfResult r : results) {
      List<Double> ys = new ArrayList<>();
      for (String q : qs) {
        DfResult.QuestionResult qr = r.question(q);
        double s = qr == null ? 1e-4 : Math.max(1e-4, qr.bestSeconds());
        ys.add(s);
        min = Math.min(min, s);
      }
      times.addSeries(r.system(), qs, ys);
    }
    times.getStyler().setYAxisMin(ReportFiles.logAxisMin(min));
    files.add(ReportFiles.savePng(times, dir, "time-per-question"));

    List<String> names = results.stream().map(DfResult::system).toList();
    CategoryChart memory =
        new CategoryChartBuilder()
            .width(900)
            .height(500)
            .title("Memory after loading - " + title)
            .yAxisTitle("MiB")
            .build();
    memory.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
    memory.addSeries("heap", names, results.stream().map(DfResult::heapMiB).toList());
    memory.addSeries("off-heap", names, results.stream().map(DfResult::offHeapMiB).toList());
    memory.addSeries(
        "resident",
        names,
        results.stream().map(r -> Double.isNaN(r.rssMiB()) ? 0 : r.rssMiB()).toList());
    files.add(ReportFiles.savePng(memory, dir, "memory"));
    return files;
  }
}
