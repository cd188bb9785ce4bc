package dev.pekkodsm.samples.gemm;

import java.util.Locale;

/**
 * The shape of one GEMM run: C = A x B for square matrices of {@code size} x {@code size} doubles,
 * split into square tiles of {@code tile} x {@code tile}, with inputs made from {@code seed}.
 *
 * @param size rows (and columns) of each matrix; a multiple of {@code tile}
 * @param tile rows (and columns) of each tile
 * @param inputs what the input cells hold
 * @param seed seed of the inputs and of the checks' random vector
 * @param leafTiles the side, in tiles, at which Strassen's recursion stops and multiplies blocks
 */
public record GemmSpec(int size, int tile, Inputs inputs, long seed, int leafTiles) {

  /** The largest tile: 8 MiB of doubles, well inside the DSM's 16 MiB snapshot limit. */
  public static final int MAX_TILE = 1024;

  /** What the input matrices hold. */
  public enum Inputs {
    /**
     * Small integers in [-2, 2], drawn per tile from the seed: every product and partial sum is an
     * integer far below 2^53, so the exact cells of C are known and no summation order changes
     * them.
     */
    RANDOM,
    /** Every cell 1.0: every cell of C is exactly {@code size}. */
    ONES
  }

  /**
   * Checks the shape.
   *
   * @throws IllegalArgumentException naming the bad value and what to use instead
   */
  public GemmSpec {
    if (tile < 1 || tile > MAX_TILE) {
      throw new IllegalArgumentException(
          "--tile " + tile + " is out of range; use 1 to " + MAX_TILE + " (e.g. 512)");
    }
    if (size < tile) {
      throw new IllegalArgumentException(
          "--size " + size + " is smaller than --tile " + tile + "; use a multiple of the tile");
    }
    if (size % tile != 0) {
      int lower = size / tile * tile;
      throw new IllegalArgumentException(
          String.format(
              Locale.ROOT,
              "--size %d is not a multiple of --tile %d; use %d or %d, or another tile",
              size,
              tile,
              lower,
              lower + tile));
    }
    if ((long) (size / tile) * (size / tile) > MAX_TILES) {
      throw new IllegalArgumentException(
          "--size " + size + " / --tile " + tile + " makes too many tiles; use larger tiles");
    }
    if (inputs == null) {
      throw new IllegalArgumentException("inputs must be random or ones");
    }
    if (leafTiles < 1) {
      throw new IllegalArgumentException("--leaf " + leafTiles + " must be at least 1 tile");
    }
  }

  private static final int MAX_TILES = 1 << 16;

  /** Tiles per side. */
  public int grid() {
    return size / tile;
  }

  /** Tiles per matrix. */
  public int tiles() {
    return grid() * grid();
  }

  /** Doubles in one tile. */
  public int tileCells() {
    return tile * tile;
  }

  /** Bytes of one tile's doubles. */
  public long tileBytes() {
    return 8L * tile * tile;
  }

  /** Bytes of one whole matrix's doubles. */
  public long matrixBytes() {
    return 8L * size * size;
  }

  /** Floating-point operations of the classical product: 2 n^3. */
  public double flops() {
    return 2.0 * size * size * (double) size;
  }
}
