package dev.pekkodsm.samples.socialnet;

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
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * Prints the SocialNet comparison (every measured window, then a summary of saturation throughput
 * and of p99 at half the slowest variant's saturation) and writes it as JSON, CSV and PNG charts
 * (p99 latency against throughput per media and workload; saturation against media size when
 * several sizes were run).
 */
public final class SnReport implements BenchReport {

  private final List<SnResult> results;
  private final Map<String, Object> run;

  /** A report of {@code results}; {@code run} describes the run and goes into the JSON as is. */
  public SnReport(List<SnResult> results, Map<String, Object> run) {
    this.results = List.copyOf(results);
    this.run = new LinkedHashMap<>(run);
  }

  /** The highest throughput a variant completed in a sweep step, or NaN if it was not swept. */
  public double saturation(String variant, String workload, String media) {
    OptionalDouble max =
        results.stream()
            .filter(r -> r.variant().equals(variant) && r.workload().equals(workload))
            .filter(r -> r.media().equals(media) && r.phase().equals("sweep"))
            .mapToDouble(SnResult::achievedPerSec)
            .max();
    return max.orElse(Double.NaN);
  }

  /** The row of a variant's run at half the slowest saturation, or null. */
  public SnResult atHalf(String variant, String workload, String media) {
    return results.stream()
        .filter(r -> r.variant().equals(variant) && r.workload().equals(workload))
        .filter(r -> r.media().equals(media) && r.phase().equals("half"))
        .findFirst()
        .orElse(null);
  }

  /** Prints the windows and the summary. */
  @Override
  public void print(PrintStream out) {
    String header =
        String.format(
            Locale.ROOT,
            "%-11s %-8s %-10s %-6s %9s %9s %9s %9s %9s %9s %9s %9s %10s %7s %7s %9s %6s %6s %5s",
            "media",
            "workload",
            "variant",
            "phase",
            "offered/s",
            "done/s",
            "p50 ms",
            "p99 ms",
            "p999 ms",
            "cmp p99",
            "home p99",
            "user p99",
            "wire KB/r",
            "msg/r",
            "dsm m/r",
            "1-sided KB",
            "errors",
            "retry",
            "viol");
    ReportFiles.printHeader(out, header);
    for (SnResult r : results) {
      out.println(
          String.format(
              Locale.ROOT,
              "%-11s %-8s %-10s %-6s %9.1f %9.1f %9s %9s %9s %9s %9s %9s %10.1f %7.1f %7.1f %9.1f %6d %6d %5d",
              r.media(),
              r.workload(),
              r.variant(),
              r.phase(),
              r.offeredPerSec(),
              r.achievedPerSec(),
              ms(r.p50Us()),
              ms(r.p99Us()),
              ms(r.p999Us()),
              ms(r.composeP99Us()),
              ms(r.homeP99Us()),
              ms(r.userP99Us()),
              r.wireBytesPerRequest() / 1024,
              r.arteryMessagesPerRequest(),
              r.dsmMessagesPerRequest(),
              r.oneSidedBytesPerRequest() / 1024,
              r.errors(),
              r.readRetries(),
              r.violations()));
    }
    List<String[]> summary = summary();
    if (!summary.isEmpty()) {
      out.println();
      String h =
          String.format(
              Locale.ROOT,
              "%-11s %-8s %-10s %12s %10s %14s %14s",
              "media",
              "workload",
              "variant",
              "saturation/s",
              "x values",
              "half rate/s",
              "p99 there ms");
      ReportFiles.printHeader(out, h);
      for (String[] row : summary) {
        out.println(
            String.format(Locale.ROOT, "%-11s %-8s %-10s %12s %10s %14s %14s", (Object[]) row));
      }
    }
    long bad = results.stream().filter(r -> !r.correct()).count();
    out.println();
    out.println(
        bad == 0
            ? "Every answer passed the checks; nothing was left over after the posts were deleted."
            : "CHECKS FAILED in " + bad + " window(s): " + firstFailure());
  }

  private String firstFailure() {
    for (SnResult r : results) {
      if (!r.correct()) {
        return r.variant()
            + " "
            + r.workload()
            + ": "
            + (r.violations() > 0
                ? r.violations() + " violations, first: " + r.firstViolation()
                : r.leakedObjects() + " objects and " + r.leakedSlots() + " arena slots left");
      }
    }
    return "";
  }

  private List<String[]> summary() {
    List<String[]> rows = new ArrayList<>();
    for (String media : distinct(SnResult::media)) {
      for (String workload : distinct(SnResult::workload)) {
        double values = saturation("values", workload, media);
        for (String variant : distinct(SnResult::variant)) {
          double sat = saturation(variant, workload, media);
          SnResult half = atHalf(variant, workload, media);
          if (Double.isNaN(sat) && half == null) {
            continue;
          }
          rows.add(
              new String[] {
                media,
                workload,
                variant,
                Double.isNaN(sat) ? "-" : String.format(Locale.ROOT, "%.1f", sat),
                Double.isNaN(sat) || Double.isNaN(values)
                    ? "-"
                    : String.format(Locale.ROOT, "%.2fx", sat / values),
                half == null ? "-" : String.format(Locale.ROOT, "%.1f", half.offeredPerSec()),
                half == null ? "-" : ms(half.p99Us())
              });
        }
      }
    }
    return rows;
  }

  private List<String> distinct(java.util.function.Function<SnResult, String> key) {
    return results.stream().map(key).distinct().collect(Collectors.toList());
  }

  private static String ms(double us) {
    return Double.isNaN(us) ? "-" : String.format(Locale.ROOT, "%.2f", us / 1000);
  }

  /** Writes results.json, results.csv and the charts into {@code dir}; returns the files. */
  @Override
  public List<Path> write(Path dir) throws IOException {
    Files.createDirectories(dir);
    List<Path> files = new ArrayList<>();
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("run", run);
    List<Map<String, Object>> rows = new ArrayList<>();
    for (SnResult r : results) {
      rows.add(ReportFiles.fieldsWithoutNaN(r));
    }
    doc.put("results", rows);
    List<Map<String, Object>> summary = new ArrayList<>();
    for (String[] s : summary()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("media", s[0]);
      m.put("workload", s[1]);
      m.put("variant", s[2]);
      m.put("saturationPerSec", number(s[3]));
      m.put("halfRatePerSec", number(s[5]));
      m.put("p99AtHalfMs", number(s[6]));
      summary.add(m);
    }
    doc.put("summary", summary);
    files.add(ReportFiles.writeJson(dir, doc));

    StringBuilder b =
        new StringBuilder(ReportFiles.csvLine(ReportFiles.fieldNames(SnResult.class)));
    for (SnResult r : results) {
      b.append(ReportFiles.csvLine(ReportFiles.fieldsWithoutNaN(r).values()));
    }
    files.add(ReportFiles.writeCsv(dir, b));
    files.addAll(charts(dir));
    return files;
  }

  private static Object number(String s) {
    return s.equals("-") ? null : Double.parseDouble(s);
  }

  private List<Path> charts(Path dir) throws IOException {
    List<Path> files = new ArrayList<>();
    for (String media : distinct(SnResult::media)) {
      for (String workload : distinct(SnResult::workload)) {
        XYChart chart =
            new XYChartBuilder()
                .width(900)
                .height(500)
                .title("SocialNet " + workload + ", media " + media + ": p99 latency by throughput")
                .xAxisTitle("requests/s completed")
                .yAxisTitle("p99 latency, ms (log)")
                .build();
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        boolean any = false;
        for (String variant : distinct(SnResult::variant)) {
          List<SnResult> curve =
              results.stream()
                  .filter(r -> r.variant().equals(variant) && r.workload().equals(workload))
                  .filter(r -> r.media().equals(media) && !r.phase().equals("probe"))
                  .filter(r -> !Double.isNaN(r.p99Us()))
                  .sorted(java.util.Comparator.comparingDouble(SnResult::offeredPerSec))
                  .toList();
          if (!curve.isEmpty()) {
            chart.addSeries(
                variant,
                curve.stream().map(SnResult::achievedPerSec).toList(),
                curve.stream().map(r -> Math.max(0.001, r.p99Us() / 1000)).toList());
            any = true;
          }
        }
        if (any) {
          files.add(ReportFiles.savePng(chart, dir, "latency-" + workload + "-" + media));
        }
      }
    }
    if (distinct(SnResult::media).size() > 1) {
      for (String workload : distinct(SnResult::workload)) {
        XYChart chart =
            new XYChartBuilder()
                .width(900)
                .height(500)
                .title("SocialNet " + workload + ": saturation by media size")
                .xAxisTitle("media bytes per post (log)")
                .yAxisTitle("requests/s at saturation (log)")
                .build();
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        boolean any = false;
        for (String variant : distinct(SnResult::variant)) {
          Map<Long, Double> points = new TreeMap<>();
          for (SnResult r : results) {
            if (r.variant().equals(variant) && r.workload().equals(workload)) {
              double sat = saturation(variant, workload, r.media());
              if (!Double.isNaN(sat)) {
                points.put(r.mediaBytes(), sat);
              }
            }
          }
          if (!points.isEmpty()) {
            chart.addSeries(
                variant, new ArrayList<>(points.keySet()), new ArrayList<>(points.values()));
            any = true;
          }
        }
        if (any) {
          files.add(ReportFiles.savePng(chart, dir, "saturation-by-media-" + workload));
        }
      }
    }
    return files;
  }
}
