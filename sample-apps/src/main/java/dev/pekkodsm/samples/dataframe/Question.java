package dev.pekkodsm.samples.dataframe;

import java.util.List;
import java.util.Locale;

/**
 * The ten group-by questions of db-benchmark, with the SQL that db-benchmark's DuckDB solution runs
 * for each (its answers are the oracle), and the answer's columns: the first {@link #keys()} of
 * them are the group's key.
 */
public enum Question {
  Q1("sum v1 by id1", "SELECT id1, sum(v1) AS v1 FROM x GROUP BY id1", 1, "id1:s", "v1:l"),
  Q2(
      "sum v1 by id1:id2",
      "SELECT id1, id2, sum(v1) AS v1 FROM x GROUP BY id1, id2",
      2,
      "id1:s",
      "id2:s",
      "v1:l"),
  Q3(
      "sum v1 mean v3 by id3",
      "SELECT id3, sum(v1) AS v1, avg(v3) AS v3 FROM x GROUP BY id3",
      1,
      "id3:s",
      "v1:l",
      "v3:d"),
  Q4(
      "mean v1:v3 by id4",
      "SELECT id4, avg(v1) AS v1, avg(v2) AS v2, avg(v3) AS v3 FROM x GROUP BY id4",
      1,
      "id4:l",
      "v1:d",
      "v2:d",
      "v3:d"),
  Q5(
      "sum v1:v3 by id6",
      "SELECT id6, sum(v1) AS v1, sum(v2) AS v2, sum(v3) AS v3 FROM x GROUP BY id6",
      1,
      "id6:l",
      "v1:l",
      "v2:l",
      "v3:d"),
  Q6(
      "median v3 sd v3 by id4 id5",
      "SELECT id4, id5, quantile_cont(v3, 0.5) AS median_v3, stddev(v3) AS sd_v3"
          + " FROM x GROUP BY id4, id5",
      2,
      "id4:l",
      "id5:l",
      "median_v3:d",
      "sd_v3:d"),
  Q7(
      "max v1 - min v2 by id3",
      "SELECT id3, max(v1)-min(v2) AS range_v1_v2 FROM x GROUP BY id3",
      1,
      "id3:s",
      "range_v1_v2:l"),
  Q8(
      "largest two v3 by id6",
      "SELECT id6, v3 AS largest2_v3 FROM (SELECT id6, v3, row_number() OVER (PARTITION BY id6"
          + " ORDER BY v3 DESC) AS order_v3 FROM x WHERE v3 IS NOT NULL) sub_query"
          + " WHERE order_v3 <= 2",
      1,
      "id6:l",
      "largest2_v3:d"),
  Q9(
      "regression v1 v2 by id2 id4",
      "SELECT id2, id4, pow(corr(v1, v2), 2) AS r2 FROM x GROUP BY id2, id4",
      2,
      "id2:s",
      "id4:l",
      "r2:d"),
  Q10(
      "sum v3 count by id1:id6",
      "SELECT id1, id2, id3, id4, id5, id6, sum(v3) AS v3, count(*) AS count FROM x"
          + " GROUP BY id1, id2, id3, id4, id5, id6",
      6,
      "id1:s",
      "id2:s",
      "id3:s",
      "id4:l",
      "id5:l",
      "id6:l",
      "v3:d",
      "count:l");

  /** The type of an answer column. */
  public enum Type {
    STRING,
    LONG,
    DOUBLE
  }

  private final String title;
  private final String sql;
  private final int keys;
  private final List<String> names;
  private final List<Type> types;

  Question(String title, String sql, int keys, String... columns) {
    this.title = title;
    this.sql = sql;
    this.keys = keys;
    this.names = java.util.Arrays.stream(columns).map(c -> c.substring(0, c.indexOf(':'))).toList();
    this.types =
        java.util.Arrays.stream(columns)
            .map(
                c ->
                    switch (c.substring(c.indexOf(':') + 1)) {
                      case "s" -> Type.STRING;
                      case "l" -> Type.LONG;
                      default -> Type.DOUBLE;
                    })
            .toList();
  }

  /** {@code q1} .. {@code q10}. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** db-benchmark's title of the question. */
  public String title() {
    return title;
  }

  /** The question in DuckDB's SQL over table {@code x}, as db-benchmark asks it. */
  public String sql() {
    return sql;
  }

  /** How many leading answer columns form the key. */
  public int keys() {
    return keys;
  }

  /** The answer's column names. */
  public List<String> names() {
    return names;
  }

  /** The answer's column types. */
  public List<Type> types() {
    return types;
  }

  /**
   * The questions named in {@code ids} ({@code q1..q10}, or {@code all}).
   *
   * @throws IllegalArgumentException for an unknown name
   */
  public static List<Question> parse(List<String> ids) {
    List<Question> out = new java.util.ArrayList<>();
    for (String id : ids) {
      String t = id.trim().toLowerCase(Locale.ROOT);
      if (t.equals("all")) {
        out.addAll(List.of(values()));
        continue;
      }
      Question found = null;
      for (Question q : values()) {
        if (q.id().equals(t)) {
          found = q;
        }
      }
      if (found == null) {
        throw new IllegalArgumentException(
            "unknown question '" + id + "'; known: q1 to q10, or all");
      }
      out.add(found);
    }
    return out;
  }
}
