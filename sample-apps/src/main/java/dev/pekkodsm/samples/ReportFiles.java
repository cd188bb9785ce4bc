package dev.pekkodsm.samples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;

/**
 * What the {@link BenchReport}s of {@code ./dsm bench} share in writing their files: {@code
 * results.json}, {@code results.csv}, PNG charts, a result record as a row, and the table's header.
 * Stateless; the files are written by the calling thread.
 */
public final class ReportFiles {

  private ReportFiles() {}

  /** Prints {@code header}, then a rule of dashes as long, under which the table's rows go. */
  public static void printHeader(PrintStream out, CharSequence header) {
    out.println(header);
    out.println("-".repeat(header.length()));
  }

  /**
   * Writes {@code doc} as indented JSON to {@code dir/results.json}.
   *
   * @return the file
   */
  public static Path writeJson(Path dir, Object doc) throws IOException {
    Path json = dir.resolve("results.json");
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), doc);
    return json;
  }

  /**
   * Writes {@code csv}, a header line and a line a row, to {@code dir/results.csv} in UTF-8.
   *
   * @return the file
   */
  public static Path writeCsv(Path dir, CharSequence csv) throws IOException {
    Path file = dir.resolve("results.csv");
    Files.writeString(file, csv, StandardCharsets.UTF_8);
    return file;
  }

  /**
   * One line of CSV, ending with {@code \n}: the cells joined by commas, {@code null} as an empty
   * cell, and a cell holding a comma or a double quote quoted (its quotes doubled).
   */
  public static String csvLine(Collection<?> cells) {
    List<String> line = new ArrayList<>(cells.size());
    for (Object v : cells) {
      String cell = v == null ? "" : v.toString();
      line.add(
          cell.contains(",") || cell.contains("\"")
              ? '"' + cell.replace("\"", "\"\"") + '"'
              : cell);
    }
    return String.join(",", line) + '\n';
  }

  /**
   * Saves {@code chart} as {@code dir/<name>.png}.
   *
   * @return the file
   */
  public static Path savePng(Chart<?, ?> chart, Path dir, String name) throws IOException {
    Path png = dir.resolve(name + ".png");
    BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    return png;
  }

  /**
   * The power of ten at or below {@code min} (above 0): the minimum of a log axis that holds it.
   */
  public static double logAxisMin(double min) {
    return Math.pow(10, Math.floor(Math.log10(min)));
  }

  /**
   * The names of {@code type}'s components, in declaration order: the columns of its rows, in a new
   * list the caller may extend.
   */
  public static List<String> fieldNames(Class<? extends Record> type) {
    List<String> names = new ArrayList<>();
    for (RecordComponent c : type.getRecordComponents()) {
      names.add(c.getName());
    }
    return names;
  }

  /**
   * {@code result}'s components by name, in declaration order, as they are: a row of the report, in
   * a new map the caller may add derived columns to.
   */
  public static Map<String, Object> fields(Record result) {
    Map<String, Object> row = new LinkedHashMap<>();
    for (RecordComponent c : result.getClass().getRecordComponents()) {
      try {
        row.put(c.getName(), c.getAccessor().invoke(result));
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("cannot read " + c.getName() + " of " + result, e);
      }
    }
    return row;
  }

  /**
   * {@link #fields}, with a {@code NaN} (a figure that was not measured) as {@code null}: JSON has
   * no NaN, and the CSV cell stays empty.
   */
  public static Map<String, Object> fieldsWithoutNaN(Record result) {
    Map<String, Object> row = fields(result);
    row.replaceAll((name, v) -> v instanceof Double d && d.isNaN() ? null : v);
    return row;
  }
}
