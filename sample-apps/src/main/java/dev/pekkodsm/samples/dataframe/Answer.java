package dev.pekkodsm.samples.dataframe;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The answer to a question, column by column, in no particular row order: string columns as
 * dictionary codes, numbers as {@code long} or {@code double} ({@code NaN} stands for SQL's NULL).
 * Every system delivers its answer as one of these to the caller, so that every answer can be
 * checked against DuckDB's.
 */
public final class Answer {

  /** A column: one of {@link Strings}, {@link Longs}, {@link Doubles}. */
  public sealed interface Column permits Strings, Longs, Doubles {}

  /** Strings as codes into a dictionary (shared, never modified). */
  public record Strings(int[] codes, String[] dictionary) implements Column {}

  /** Integers. */
  public record Longs(long[] values) implements Column {}

  /** Doubles; NaN is NULL. */
  public record Doubles(double[] values) implements Column {}

  private final Question question;
  private final int rows;
  private final List<Column> columns;

  /** An answer of {@code rows} rows; the columns follow {@link Question#types()}. */
  public Answer(Question question, int rows, List<Column> columns) {
    if (columns.size() != question.names().size()) {
      throw new IllegalArgumentException(
          question.id() + " has " + question.names().size() + " columns, not " + columns.size());
    }
    this.question = question;
    this.rows = rows;
    this.columns = List.copyOf(columns);
  }

  /** The question answered. */
  public Question question() {
    return question;
  }

  /** The number of rows. */
  public int rows() {
    return rows;
  }

  /** The columns. */
  public List<Column> columns() {
    return columns;
  }

  /** Row {@code r} as objects: String, Long or Double. */
  public Object[] row(int r) {
    Object[] out = new Object[columns.size()];
    for (int c = 0; c < out.length; c++) {
      Column col = columns.get(c);
      if (col instanceof Strings s) {
        out[c] = s.dictionary()[s.codes()[r]];
      } else if (col instanceof Longs l) {
        out[c] = l.values()[r];
      } else {
        out[c] = ((Doubles) col).values()[r];
      }
    }
    return out;
  }

  /** Every row, sorted by all columns (for comparing small answers in full). */
  public List<Object[]> sortedRows() {
    List<Object[]> out = new ArrayList<>(rows);
    for (int r = 0; r < rows; r++) {
      out.add(row(r));
    }
    out.sort(ROW_ORDER);
    return out;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static final Comparator<Object[]> ROW_ORDER =
      (a, b) -> {
        for (int i = 0; i < a.length; i++) {
          int c = ((Comparable) a[i]).compareTo(b[i]);
          if (c != 0) {
            return c;
          }
        }
        return 0;
      };

  /**
   * The answer's digest: what is compared with the oracle's. Independent of the row order and of
   * how strings are coded.
   */
  public Digest digest() {
    int n = columns.size();
    long[][] hashes = new long[question.keys()][];
    for (int c = 0; c < question.keys(); c++) {
      hashes[c] = hashesOf(columns.get(c));
    }
    long keySum = 0;
    double[] sums = new double[n];
    double[] weighted = new double[n];
    double[] magnitudes = new double[n];
    long[] nulls = new long[n];
    for (int r = 0; r < rows; r++) {
      long h = 0x9E3779B97F4A7C15L;
      for (int c = 0; c < hashes.length; c++) {
        h = mix(h ^ hashes[c][columns.get(c) instanceof Strings s ? s.codes()[r] : r]);
      }
      keySum += h;
      double weight = 1 + (h >>> 44) / (double) (1L << 20);
      for (int c = question.keys(); c < n; c++) {
        Column col = columns.get(c);
        double v = col instanceof Longs l ? l.values()[r] : ((Doubles) col).values()[r];
        if (Double.isNaN(v)) {
          nulls[c]++;
        } else {
          sums[c] += v;
          weighted[c] += v * weight;
          magnitudes[c] += Math.abs(v) * weight;
        }
      }
    }
    return new Digest(rows, keySum, sums, weighted, magnitudes, nulls);
  }

  /** Per row (for Longs) or per dictionary code (for Strings): the value's 64-bit hash. */
  private long[] hashesOf(Column column) {
    if (column instanceof Strings s) {
      long[] h = new long[s.dictionary().length];
      for (int i = 0; i < h.length; i++) {
        h[i] = stringHash(s.dictionary()[i]);
      }
      return h;
    }
    long[] h = new long[rows];
    for (int r = 0; r < rows; r++) {
      h[r] =
          column instanceof Longs l
              ? mix(l.values()[r] + 0x632BE59BD9B4E019L)
              : mix(Double.doubleToLongBits(((Doubles) column).values()[r]));
    }
    return h;
  }

  private static long stringHash(String s) {
    long h = 0xCBF29CE484222325L;
    for (int i = 0; i < s.length(); i++) {
      h = (h ^ s.charAt(i)) * 0x100000001B3L;
    }
    return mix(h);
  }

  /** Murmur3's 64-bit finalizer. */
  static long mix(long z) {
    z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
    z = (z ^ (z >>> 33)) * 0xC4CEB93FE1A85EC9L;
    return z ^ (z >>> 33);
  }

  /**
   * What identifies an answer: its row count, the sum of its rows' key hashes (exact), and per
   * value column the sum, a sum weighted by the row's key (so a value under the wrong key shows)
   * and the NULL count. Sums are compared with a relative tolerance, since systems add in different
   * orders.
   */
  public record Digest(
      long rows,
      long keyHashSum,
      double[] sums,
      double[] weightedSums,
      double[] magnitudes,
      long[] nulls) {

    /** Relative tolerance of the sums. */
    public static final double TOLERANCE = 1e-9;

    /** Null when {@code other} digests the same answer, else what differs. */
    public String mismatch(Digest other) {
      if (rows != other.rows) {
        return "rows " + rows + " vs " + other.rows;
      }
      if (keyHashSum != other.keyHashSum) {
        return "the keys differ";
      }
      for (int c = 0; c < sums.length; c++) {
        if (nulls[c] != other.nulls[c]) {
          return "column " + c + " NULLs " + nulls[c] + " vs " + other.nulls[c];
        }
        double scale = Math.max(1, Math.max(magnitudes[c], other.magnitudes[c]));
        if (Math.abs(sums[c] - other.sums[c]) > TOLERANCE * scale
            || Math.abs(weightedSums[c] - other.weightedSums[c]) > TOLERANCE * scale) {
          return "column "
              + c
              + " sums "
              + sums[c]
              + " vs "
              + other.sums[c]
              + " (weighted "
              + weightedSums[c]
              + " vs "
              + other.weightedSums[c]
              + ")";
        }
      }
      return null;
    }

    @Override
    public String toString() {
      return "Digest[rows="
          + rows
          + ", keys="
          + Long.toHexString(keyHashSum)
          + ", sums="
          + Arrays.toString(sums)
          + ", nulls="
          + Arrays.toString(nulls)
          + "]";
    }
  }

  /** Builds an answer row by row (from a SQL result), interning strings into dictionaries. */
  public static final class Builder {
    private final Question question;
    private final Object[] data;
    private final List<Map<String, Integer>> codes = new ArrayList<>();
    private final List<List<String>> dictionaries = new ArrayList<>();
    private int rows;

    /** An empty answer to {@code question}. */
    public Builder(Question question) {
      this.question = question;
      List<Question.Type> types = question.types();
      data = new Object[types.size()];
      for (int c = 0; c < data.length; c++) {
        data[c] =
            switch (types.get(c)) {
              case STRING -> new int[16];
              case LONG -> new long[16];
              case DOUBLE -> new double[16];
            };
        codes.add(new HashMap<>());
        dictionaries.add(new ArrayList<>());
      }
    }

    /** Sets column {@code c} of the current row to a string. */
    public Builder string(int c, String value) {
      int[] col = (int[]) grow(c);
      col[rows] =
          codes
              .get(c)
              .computeIfAbsent(
                  value,
                  v -> {
                    dictionaries.get(c).add(v);
                    return dictionaries.get(c).size() - 1;
                  });
      return this;
    }

    /** Sets column {@code c} of the current row to an integer. */
    public Builder integer(int c, long value) {
      ((long[]) grow(c))[rows] = value;
      return this;
    }

    /** Sets column {@code c} of the current row to a double, NaN for NULL. */
    public Builder real(int c, double value) {
      ((double[]) grow(c))[rows] = value;
      return this;
    }

    /** Ends the current row. */
    public Builder endRow() {
      rows++;
      return this;
    }

    private Object grow(int c) {
      Object col = data[c];
      int length = java.lang.reflect.Array.getLength(col);
      if (rows == length) {
        int next = Math.max(16, length * 2);
        if (col instanceof int[] a) {
          col = Arrays.copyOf(a, next);
        } else if (col instanceof long[] a) {
          col = Arrays.copyOf(a, next);
        } else {
          col = Arrays.copyOf((double[]) col, next);
        }
        data[c] = col;
      }
      return col;
    }

    /** The answer. */
    public Answer build() {
      List<Column> columns = new ArrayList<>();
      for (int c = 0; c < data.length; c++) {
        Object col = data[c];
        if (col instanceof int[] a) {
          columns.add(
              new Strings(Arrays.copyOf(a, rows), dictionaries.get(c).toArray(new String[0])));
        } else if (col instanceof long[] a) {
          columns.add(new Longs(Arrays.copyOf(a, rows)));
        } else {
          columns.add(new Doubles(Arrays.copyOf((double[]) col, rows)));
        }
      }
      return new Answer(question, rows, columns);
    }
  }
}
