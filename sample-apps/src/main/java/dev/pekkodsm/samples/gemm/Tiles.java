package dev.pekkodsm.samples.gemm;

import java.util.SplittableRandom;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

/**
 * Tiles: square blocks of a matrix, each a row-major {@code double[]} of {@code tile * tile} cells,
 * numbered row by row ({@code index = row * grid + column}). The kernel is EJML's: {@link
 * CommonOps_DDRM#multAdd}, measured as fast as EJML's block-format product for 512 x 512 tiles on
 * the machine of the README (6.3-6.7 GFLOP/s on one core), and no copy is made to use it.
 *
 * <p>Stateless; every method is thread-safe for distinct output arrays.
 */
public final class Tiles {

  private Tiles() {}

  /** Which input matrix a tile belongs to. */
  public static final int A = 0;

  /** Which input matrix a tile belongs to. */
  public static final int B = 1;

  /**
   * Tile {@code index} of input matrix {@code matrix} ({@link #A} or {@link #B}): the same cells on
   * every node and every run with the same seed, made where the tile will live: all 1.0 if {@code
   * ones}, else integers in [-2, 2].
   */
  public static double[] input(int matrix, int index, int tile, boolean ones, long seed) {
    double[] cells = new double[tile * tile];
    if (ones) {
      java.util.Arrays.fill(cells, 1.0);
      return cells;
    }
    SplittableRandom random = new SplittableRandom(mix(seed, matrix, index));
    for (int i = 0; i < cells.length; i++) {
      cells[i] = random.nextInt(5) - 2;
    }
    return cells;
  }

  /** {@link #input} for a spec. */
  public static double[] input(int matrix, int index, GemmSpec spec) {
    return input(matrix, index, spec.tile(), spec.inputs() == GemmSpec.Inputs.ONES, spec.seed());
  }

  private static long mix(long seed, int matrix, int index) {
    long z = seed * 0x9E3779B97F4A7C15L + matrix * 0xBF58476D1CE4E5B9L + index;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** {@code c += a * b}, all {@code tile x tile}, with EJML's kernel. */
  public static void multiplyAdd(double[] a, double[] b, double[] c, int tile) {
    CommonOps_DDRM.multAdd(wrap(a, tile), wrap(b, tile), wrap(c, tile));
  }

  /** {@code a * b} into a new tile. */
  public static double[] multiply(double[] a, double[] b, int tile) {
    double[] c = new double[tile * tile];
    CommonOps_DDRM.mult(wrap(a, tile), wrap(b, tile), wrap(c, tile));
    return c;
  }

  private static DMatrixRMaj wrap(double[] cells, int tile) {
    if (cells.length != tile * tile) {
      throw new IllegalArgumentException(
          "a tile of " + cells.length + " cells is not " + tile + " x " + tile);
    }
    return DMatrixRMaj.wrap(tile, tile, cells);
  }

  /**
   * {@code x + sign * y} into a new tile, where a {@code null} tile is all zeros; {@code null} if
   * both are.
   */
  public static double[] combine(double[] x, double[] y, double sign) {
    if (x == null && y == null) {
      return null;
    }
    if (y == null) {
      return x.clone();
    }
    double[] out = new double[y.length];
    if (x == null) {
      for (int i = 0; i < out.length; i++) {
        out[i] = sign * y[i];
      }
      return out;
    }
    for (int i = 0; i < out.length; i++) {
      out[i] = x[i] + sign * y[i];
    }
    return out;
  }

  /** {@code acc += sign * x} in place; {@code x == null} adds nothing. Returns {@code acc}. */
  public static double[] accumulate(double[] acc, double[] x, double sign) {
    if (x != null) {
      for (int i = 0; i < acc.length; i++) {
        acc[i] += sign * x[i];
      }
    }
    return acc;
  }
}
