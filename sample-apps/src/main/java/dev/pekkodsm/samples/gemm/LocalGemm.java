package dev.pekkodsm.samples.gemm;

import java.util.concurrent.atomic.AtomicLong;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_MT_DDRM;

/**
 * The floor: one JVM, no cluster, the whole matrices in memory and EJML's multithreaded product
 * ({@link CommonOps_MT_DDRM#mult}) on every core. The node count of the run does not apply.
 */
final class LocalGemm implements GemmSystem {

  private final GemmSpec spec;
  private DMatrixRMaj a;
  private DMatrixRMaj b;
  private DMatrixRMaj c;

  private LocalGemm(GemmSpec spec) {
    this.spec = spec;
  }

  static GemmSystem start(int nodes, GemmSpec spec) {
    return new LocalGemm(spec);
  }

  @Override
  public int nodes() {
    return 1;
  }

  @Override
  public void load() {
    a = assemble(Tiles.A);
    b = assemble(Tiles.B);
    c = new DMatrixRMaj(spec.size(), spec.size());
  }

  private DMatrixRMaj assemble(int matrix) {
    int n = spec.size();
    int t = spec.tile();
    int g = spec.grid();
    DMatrixRMaj m = new DMatrixRMaj(n, n);
    for (int index = 0; index < spec.tiles(); index++) {
      double[] tile = Tiles.input(matrix, index, spec);
      int row0 = index / g * t;
      int col0 = index % g * t;
      for (int r = 0; r < t; r++) {
        System.arraycopy(tile, r * t, m.data, (row0 + r) * n + col0, t);
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
    CommonOps_MT_DDRM.mult(a, b, c);
  }

  @Override
  public double[] resultTile(int index) {
    int n = spec.size();
    int t = spec.tile();
    int g = spec.grid();
    double[] tile = new double[t * t];
    int row0 = index / g * t;
    int col0 = index % g * t;
    for (int r = 0; r < t; r++) {
      System.arraycopy(c.data, (row0 + r) * n + col0, tile, r * t, t);
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
