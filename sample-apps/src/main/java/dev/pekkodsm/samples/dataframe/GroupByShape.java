package dev.pekkodsm.samples.dataframe;

import java.util.Locale;

/**
 * The shape of db-benchmark's group-by table {@code G1_<rows>_<k>_0_0}: {@code rows} rows, {@code
 * k} levels for the "large group" keys (id1, id2, id4, id5) and {@code rows / k} for the "small
 * group" keys (id3, id6), no missing values, rows in random order.
 *
 * @param rows the number of rows, a multiple of {@code k}
 * @param k the number of levels of id1, id2, id4 and id5
 */
public record GroupByShape(int rows, int k) {

  /** Validates the shape. */
  public GroupByShape {
    if (k < 1) {
      throw new IllegalArgumentException("k=" + k + " must be >= 1");
    }
    if (rows < k || rows % k != 0) {
      throw new IllegalArgumentException(
          "rows="
              + rows
              + " must be a positive multiple of k="
              + k
              + " (id3 and id6 have rows/k levels)");
    }
  }

  /** The most rows a block of a distributed table holds: 128 Ki rows, 5 MiB of columns. */
  public static final int MAX_BLOCK_ROWS = 1 << 17;

  /**
   * Rows per block when the table is spread over {@code nodes} nodes: at least four blocks per node
   * (so each node's task threads share the work), at most {@link #MAX_BLOCK_ROWS} rows per block.
   */
  public int blockRows(int nodes) {
    long perBlock = (rows + 4L * nodes - 1) / (4L * nodes);
    return (int) Math.max(1, Math.min(MAX_BLOCK_ROWS, perBlock));
  }

  /** The number of blocks of {@link #blockRows(int)} rows. */
  public int blocks(int nodes) {
    int per = blockRows(nodes);
    return (rows + per - 1) / per;
  }

  /** Levels of id3 and id6: {@code rows / k}. */
  public int smallGroups() {
    return rows / k;
  }

  /**
   * The table's name as db-benchmark writes it: {@code G1_1e7_1e2_0_0} for 1e7 rows and k = 100 (a
   * number that is not a digit times a power of ten is written out in full).
   */
  public String name() {
    return "G1_" + pretty(rows) + "_" + pretty(k) + "_0_0";
  }

  /** Parses {@code 1e7}, {@code 10000000} or {@code 5e6} as a row count. */
  public static int parseCount(String text) {
    try {
      double value = Double.parseDouble(text.trim());
      if (value < 1 || value > Integer.MAX_VALUE || value != Math.rint(value)) {
        throw new NumberFormatException();
      }
      return (int) value;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a whole count between 1 and 2^31-1; use e.g. 1e7 or 10000000");
    }
  }

  private static String pretty(int n) {
    String digits = Integer.toString(n);
    String tail = digits.substring(1);
    if (tail.chars().allMatch(c -> c == '0')) {
      return digits.charAt(0) + "e" + tail.length();
    }
    return digits;
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "%s (%,d rows, k=%d)", name(), rows, k);
  }
}
