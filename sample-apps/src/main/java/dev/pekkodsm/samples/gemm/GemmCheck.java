package dev.pekkodsm.samples.gemm;

import java.util.SplittableRandom;

/**
 * Checks a product C against the inputs it was made from, reading C one tile at a time.
 *
 * <ul>
 *   <li>Freivalds' check: for a random integer vector x, A(Bx) must equal Cx. A and B are made
 *       again from the spec's seed (tile by tile, as the systems made them), so nothing of the
 *       system under test is trusted; the work is O(n^2). A wrong tile, a tile in the wrong place
 *       or a missing partial product changes Cx with near certainty.
 *   <li>Exact cells: with all-ones inputs, every cell of C must be exactly n; with random integer
 *       inputs, one cell in every tile (at an offset that varies by tile) is compared with its
 *       exact value, a dot product of a row of A and a column of B.
 * </ul>
 *
 * <p>The inputs are integers, so both checks are exact whatever order the sums were taken in (every
 * partial sum is an integer far below 2^53): any difference at all is an error.
 */
final class GemmCheck {

  /** Reads tile {@code index} of C. */
  @FunctionalInterface
  interface TileSource {
    double[] tile(int index) throws Exception;
  }

  /** What the checks found. */
  record Outcome(double freivaldsMaxError, long exactCellsChecked, long wrongCells) {
    boolean correct() {
      return freivaldsMaxError == 0 && wrongCells == 0 && exactCellsChecked > 0;
    }
  }

  private final GemmSpec spec;

  GemmCheck(GemmSpec spec) {
    this.spec = spec;
  }

  /** Runs both checks on the product read from {@code c}. */
  Outcome check(TileSource c) throws Exception {
    int n = spec.size();
    int t = spec.tile();
    int g = spec.grid();
    SplittableRandom random = new SplittableRandom(spec.seed() ^ 0x5DEECE66DL);
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = random.nextInt(17) - 8;
    }
    double[] expected = times(Tiles.A, times(Tiles.B, x));

    // One cell per tile: row rowOf(ti), column colOf(tj).
    double[][] rows = new double[g][];
    double[][] cols = new double[g][];
    if (spec.inputs() == GemmSpec.Inputs.RANDOM) {
      for (int ti = 0; ti < g; ti++) {
        rows[ti] = row(ti * t + offset(ti, 7));
        cols[ti] = column(ti * t + offset(ti, 13));
      }
    }

    double[] actual = new double[n];
    long checked = 0;
    long wrong = 0;
    for (int ti = 0; ti < g; ti++) {
      for (int tj = 0; tj < g; tj++) {
        double[] tile = c.tile(ti * g + tj);
        if (tile.length != t * t) {
          throw new IllegalStateException(
              "tile " + (ti * g + tj) + " of C has " + tile.length + " cells, not " + t * t);
        }
        for (int r = 0; r < t; r++) {
          double sum = 0;
          for (int k = 0; k < t; k++) {
            sum += tile[r * t + k] * x[tj * t + k];
          }
          actual[ti * t + r] += sum;
        }
        if (spec.inputs() == GemmSpec.Inputs.ONES) {
          for (double cell : tile) {
            checked++;
            if (cell != n) {
              wrong++;
            }
          }
        } else {
          double exact = dot(rows[ti], cols[tj]);
          checked++;
          if (tile[offset(ti, 7) * t + offset(tj, 13)] != exact) {
            wrong++;
          }
        }
      }
    }
    double maxError = 0;
    for (int i = 0; i < n; i++) {
      maxError = Math.max(maxError, Math.abs(expected[i] - actual[i]));
    }
    return new Outcome(maxError, checked, wrong);
  }

  private int offset(int tileIndex, int stride) {
    return (tileIndex * stride + 1) % spec.tile();
  }

  /** {@code M v} for input matrix {@code matrix}, made tile by tile. */
  private double[] times(int matrix, double[] v) {
    int t = spec.tile();
    int g = spec.grid();
    double[] out = new double[spec.size()];
    for (int ti = 0; ti < g; ti++) {
      for (int tj = 0; tj < g; tj++) {
        double[] tile = Tiles.input(matrix, ti * g + tj, spec);
        for (int r = 0; r < t; r++) {
          double sum = 0;
          for (int k = 0; k < t; k++) {
            sum += tile[r * t + k] * v[tj * t + k];
          }
          out[ti * t + r] += sum;
        }
      }
    }
    return out;
  }

  /** Row {@code r} of A. */
  private double[] row(int r) {
    int t = spec.tile();
    int g = spec.grid();
    double[] out = new double[spec.size()];
    int ti = r / t;
    for (int tj = 0; tj < g; tj++) {
      System.arraycopy(Tiles.input(Tiles.A, ti * g + tj, spec), (r % t) * t, out, tj * t, t);
    }
    return out;
  }

  /** Column {@code c} of B. */
  private double[] column(int c) {
    int t = spec.tile();
    int g = spec.grid();
    double[] out = new double[spec.size()];
    int tj = c / t;
    for (int ti = 0; ti < g; ti++) {
      double[] tile = Tiles.input(Tiles.B, ti * g + tj, spec);
      for (int r = 0; r < t; r++) {
        out[ti * t + r] = tile[r * t + c % t];
      }
    }
    return out;
  }

  private static double dot(double[] a, double[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += a[i] * b[i];
    }
    return sum;
  }
}
