package dev.pekkodsm.samples.gemm;

import dev.pekkodsm.DBox;
import dev.pekkodsm.Dsm;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * DRust's divide-and-conquer product on pekko-dsm: Strassen's seven sub-products, each a task
 * spawned with its operands moved to it (the boxes travel in the task, ownership and all),
 * recursing until a block is at most {@code leaf} tiles on a side, where the tiles are multiplied
 * with EJML's kernel. Each task returns the boxes of its product, allocated where it ran, and the
 * parent reads them (one-sided when they live elsewhere), combines them into its own result and
 * drops them.
 *
 * <p>A matrix is a square grid of tile boxes, row by row; {@code null} is a tile of zeros. A grid
 * whose side is odd is split as if padded with zero tiles to the next even side, so every grid,
 * whatever its side, recurses down to the leaf; the padding costs nothing (a product with a zero
 * tile is never computed).
 *
 * <p>Every call owns the grids it is given and drops (or moves on) every box in them.
 */
final class Strassen {

  private Strassen() {}

  /**
   * {@code a x b} for grids of {@code side x side} tiles of {@code tile x tile} cells; consumes
   * {@code a} and {@code b}, returns the product's grid (its boxes owned by the caller). Runs the
   * top level on the calling thread; sub-products are spawned on the least-loaded nodes.
   */
  static ArrayList<DBox<double[]>> multiply(
      Dsm dsm,
      ArrayList<DBox<double[]>> a,
      ArrayList<DBox<double[]>> b,
      int side,
      int tile,
      int leaf) {
    List<CompletableFuture<Void>> drops = new ArrayList<>();
    try {
      return side <= leaf
          ? blocked(dsm, a, b, side, tile, drops)
          : recurse(dsm, a, b, side, tile, leaf, drops);
    } finally {
      CompletableFuture.allOf(drops.toArray(CompletableFuture[]::new)).join();
    }
  }

  /** The leaf: the classical product of the tiles, on this node. */
  private static ArrayList<DBox<double[]>> blocked(
      Dsm dsm,
      List<DBox<double[]>> a,
      List<DBox<double[]>> b,
      int side,
      int tile,
      List<CompletableFuture<Void>> drops) {
    ArrayList<DBox<double[]>> c = new ArrayList<>(side * side);
    for (int i = 0; i < side; i++) {
      for (int j = 0; j < side; j++) {
        double[] acc = null;
        for (int k = 0; k < side; k++) {
          double[] x = read(a.get(i * side + k));
          double[] y = read(b.get(k * side + j));
          if (x != null && y != null) {
            if (acc == null) {
              acc = Tiles.multiply(x, y, tile);
            } else {
              Tiles.multiplyAdd(x, y, acc, tile);
            }
          }
        }
        c.add(acc == null ? null : dsm.alloc(acc));
      }
    }
    dropAll(a, drops);
    dropAll(b, drops);
    return c;
  }

  private static ArrayList<DBox<double[]>> recurse(
      Dsm dsm,
      ArrayList<DBox<double[]>> a,
      ArrayList<DBox<double[]>> b,
      int side,
      int tile,
      int leaf,
      List<CompletableFuture<Void>> drops) {
    int h = (side + 1) / 2;
    Quadrants qa = new Quadrants(a, side, h);
    Quadrants qb = new Quadrants(b, side, h);
    List<CompletableFuture<ArrayList<DBox<double[]>>>> m = new ArrayList<>(7);
    for (int i = 0; i < 7; i++) {
      m.add(null);
    }
    // Products whose operands are all sums go first, so they run while the others' are made.
    m.set(
        0,
        spawn(dsm, sum(dsm, qa.q11, qa.q22, 1, h), sum(dsm, qb.q11, qb.q22, 1, h), h, tile, leaf));
    m.set(
        5,
        spawn(dsm, sum(dsm, qa.q21, qa.q11, -1, h), sum(dsm, qb.q11, qb.q12, 1, h), h, tile, leaf));
    m.set(
        6,
        spawn(dsm, sum(dsm, qa.q12, qa.q22, -1, h), sum(dsm, qb.q21, qb.q22, 1, h), h, tile, leaf));
    ArrayList<DBox<double[]>> a21PlusA22 = sum(dsm, qa.q21, qa.q22, 1, h);
    ArrayList<DBox<double[]>> b12MinusB22 = sum(dsm, qb.q12, qb.q22, -1, h);
    ArrayList<DBox<double[]>> b21MinusB11 = sum(dsm, qb.q21, qb.q11, -1, h);
    ArrayList<DBox<double[]>> a11PlusA12 = sum(dsm, qa.q11, qa.q12, 1, h);
    // The quadrants used as they are move into their products; the others are no longer needed.
    m.set(1, spawn(dsm, a21PlusA22, qb.q11, h, tile, leaf));
    m.set(2, spawn(dsm, qa.q11, b12MinusB22, h, tile, leaf));
    m.set(3, spawn(dsm, qa.q22, b21MinusB11, h, tile, leaf));
    m.set(4, spawn(dsm, a11PlusA12, qb.q22, h, tile, leaf));
    dropAll(qa.q12, drops);
    dropAll(qa.q21, drops);
    dropAll(qb.q12, drops);
    dropAll(qb.q21, drops);

    List<ArrayList<DBox<double[]>>> p = new ArrayList<>(7);
    for (CompletableFuture<ArrayList<DBox<double[]>>> f : m) {
      p.add(f.join());
    }
    ArrayList<DBox<double[]>> c = new ArrayList<>(side * side);
    for (int i = 0; i < side; i++) {
      for (int j = 0; j < side; j++) {
        int at = (i % h) * h + j % h;
        double[] acc;
        if (i < h && j < h) { // C11 = M1 + M4 - M5 + M7
          acc = combine(p, at, new int[] {0, 3, 4, 6}, new double[] {1, 1, -1, 1});
        } else if (i < h) { // C12 = M3 + M5
          acc = combine(p, at, new int[] {2, 4}, new double[] {1, 1});
        } else if (j < h) { // C21 = M2 + M4
          acc = combine(p, at, new int[] {1, 3}, new double[] {1, 1});
        } else { // C22 = M1 - M2 + M3 + M6
          acc = combine(p, at, new int[] {0, 1, 2, 5}, new double[] {1, -1, 1, 1});
        }
        c.add(acc == null ? null : dsm.alloc(acc));
      }
    }
    p.forEach(product -> dropAll(product, drops));
    return c;
  }

  private static double[] combine(
      List<ArrayList<DBox<double[]>>> products, int at, int[] which, double[] signs) {
    double[] acc = null;
    for (int k = 0; k < which.length; k++) {
      double[] x = read(products.get(which[k]).get(at));
      if (x == null) {
        continue;
      }
      if (acc == null) {
        acc = Tiles.combine(null, x, signs[k]);
      } else {
        Tiles.accumulate(acc, x, signs[k]);
      }
    }
    return acc;
  }

  /** Spawns the product {@code x y} with both operands moved into the task. */
  private static CompletableFuture<ArrayList<DBox<double[]>>> spawn(
      Dsm dsm,
      ArrayList<DBox<double[]>> x,
      ArrayList<DBox<double[]>> y,
      int side,
      int tile,
      int leaf) {
    ArrayList<DBox<double[]>> px = pack(x);
    ArrayList<DBox<double[]>> py = pack(y);
    return dsm.spawn(
            () ->
                pack(multiply(Dsm.current(), unpack(px, side), unpack(py, side), side, tile, leaf)))
        .toCompletableFuture()
        .thenApply(product -> unpack(product, side));
  }

  /**
   * A grid as it travels: an empty list for a grid of zero tiles only. Kryo writes a list whose
   * elements are all null as its length alone, which the DSM's bounded decoding refuses (it expects
   * a byte per element), so such a grid must not travel as it is.
   */
  private static ArrayList<DBox<double[]>> pack(ArrayList<DBox<double[]>> grid) {
    for (DBox<double[]> tile : grid) {
      if (tile != null) {
        return grid;
      }
    }
    return new ArrayList<>();
  }

  private static ArrayList<DBox<double[]>> unpack(ArrayList<DBox<double[]>> grid, int side) {
    if (grid.isEmpty()) {
      ArrayList<DBox<double[]>> zeros = new ArrayList<>(side * side);
      for (int k = 0; k < side * side; k++) {
        zeros.add(null);
      }
      return zeros;
    }
    return grid;
  }

  /** {@code x + sign * y}, tile by tile, into new boxes on this node. */
  private static ArrayList<DBox<double[]>> sum(
      Dsm dsm, List<DBox<double[]>> x, List<DBox<double[]>> y, double sign, int h) {
    ArrayList<DBox<double[]>> out = new ArrayList<>(h * h);
    for (int k = 0; k < h * h; k++) {
      double[] tile = Tiles.combine(read(x.get(k)), read(y.get(k)), sign);
      out.add(tile == null ? null : dsm.alloc(tile));
    }
    return out;
  }

  /**
   * The tile's cells, read under a shared borrow (one-sided when the box's object lives elsewhere);
   * tiles are never changed after they are made, so the array stays valid after the borrow.
   */
  private static double[] read(DBox<double[]> box) {
    return box == null ? null : box.read(cells -> cells);
  }

  private static void dropAll(List<DBox<double[]>> boxes, List<CompletableFuture<Void>> drops) {
    for (DBox<double[]> box : boxes) {
      if (box != null) {
        drops.add(box.dropAsync().toCompletableFuture());
      }
    }
  }

  /** The four quadrants of a grid, each {@code h x h}, padded with zero tiles past the edge. */
  private static final class Quadrants {
    final ArrayList<DBox<double[]>> q11;
    final ArrayList<DBox<double[]>> q12;
    final ArrayList<DBox<double[]>> q21;
    final ArrayList<DBox<double[]>> q22;

    Quadrants(List<DBox<double[]>> grid, int side, int h) {
      q11 = quadrant(grid, side, h, 0, 0);
      q12 = quadrant(grid, side, h, 0, h);
      q21 = quadrant(grid, side, h, h, 0);
      q22 = quadrant(grid, side, h, h, h);
    }

    private static ArrayList<DBox<double[]>> quadrant(
        List<DBox<double[]>> grid, int side, int h, int row0, int col0) {
      ArrayList<DBox<double[]>> q = new ArrayList<>(h * h);
      for (int i = 0; i < h; i++) {
        for (int j = 0; j < h; j++) {
          int r = row0 + i;
          int c = col0 + j;
          q.add(r < side && c < side ? grid.get(r * side + c) : null);
        }
      }
      return q;
    }
  }
}
