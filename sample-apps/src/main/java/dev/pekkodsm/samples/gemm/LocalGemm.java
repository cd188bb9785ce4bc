package dev.pekkodsm.samples.gemm;

import java.util.concurrent.atomic.AtomicLong;
import org.ejml.data.DMatrixRBlock;
import org.ejml.dense.block.MatrixOps_MT_DDRB;

/**
 * The floor: one JVM, no cluster, the whole matrices in memory and EJML's multithreaded product on
 * every core. EJML has two: {@code CommonOps_MT_DDRM.mult} on row-major matrices and {@link
 * MatrixOps_MT_DDRB#mult} on its block format; for matrices larger than the caches the block one is
 * 2-3x faster (the row-major one streams all of B from memory for every row of A), so the inputs
 * are made in block format and that one is used. It runs in one JVM whatever the run's node count.
 */
final class LocalGemm implements GemmSystem {

  private final int nodes;
  private final GemmSpec spec;
  private DMatrixRBlock a;
  private DMatrixRBlock b;
  private DMatrixRBlock c;

  private LocalGemm(int nodes, GemmSpec spec) {
    this.nodes = nodes;
    this.spec = spec;
  }

  static GemmSystem start(int nodes, GemmSpec spec) {
    return new LocalGemm(nodes, spec);
  }

  /** The run's node count, for the report's grouping: this system uses one JVM whatever it is. */
  @Override
  public int nodes() {
    return nodes;
  }

  @Override
  public void load() {
    a = assemble(Tiles.A);
    b = assemble(Tiles.B);
    c = new DMatrixRBlock(spec.size(), spec.size());
  }

  private DMatrixRBlock assemble(int matrix) {
    int n = spec.size();
    int t = spec.tile();
    int g = spec.grid();
    DMatrixRBlock m = new DMatrixRBlock(n, n);
    for (int index = 0; index < spec.tiles(); index++) {
      double[] tile = Tiles.input(matrix, index, spec);
      int row0 = index / g * t;
      int col0 = index % g * t;
      for (int r = 0; r < t; r++) {
        for (int k = 0; k < t; k++) {
          m.set(row0 + r, col0 + k, tile[r * t + k]);
        }
      }
    }
    return m;
  }

  @Override
  public long work() {
    return -1;
  }

  @Override
  public void multiply(AtomicLong progress) {
    MatrixOps_MT_DDRB.mult(a, b, c);
  }

  @Override
  public double[] resultTile(int index) {
    int t = spec.tile();
    int g = spec.grid();
    double[] tile = new double[t * t];
    int row0 = index / g * t;
    int col0 = index % g * t;
    for (int r = 0; r < t; r++) {
      for (int k = 0; k < t; k++) {
        tile[r * t + k] = c.get(row0 + r, col0 + k);
      }
    }
    return tile;
  }

  @Override
  public Traffic traffic() {
    return new Traffic(0, 0);
  }

  @Override
  public void close() {
    a = null;
    b = null;
    c = null;
  }
}
