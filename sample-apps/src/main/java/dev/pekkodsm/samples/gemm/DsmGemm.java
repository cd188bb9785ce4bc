package dev.pekkodsm.samples.gemm;

import dev.pekkodsm.DBox;
import dev.pekkodsm.DCallable;
import dev.pekkodsm.DFunction;
import dev.pekkodsm.DRef;
import dev.pekkodsm.Dsm;
import dev.pekkodsm.DsmCounters;
import dev.pekkodsm.testkit.LocalCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * pekko-dsm under test, on an embedded {@link LocalCluster}: the tiles of A, B and C are boxes
 * ({@code DBox<double[]>}) placed round-robin, tile {@code k} on node {@code k mod nodes}, each
 * made by a task on its node. Two algorithms, both written on the public API only:
 *
 * <ul>
 *   <li>{@code dsm} (blocked, compute sent to the data): every C tile is computed where it lives,
 *       by {@code spawnTo(cTile, ...)}, with the A and B tiles of its row and column read through
 *       shared references ({@code DRef}) it carries: one one-sided read per tile and node, then the
 *       node's read cache.
 *   <li>{@code dsm-strassen} (DRust's divide and conquer): {@link Strassen}.
 * </ul>
 */
final class DsmGemm implements GemmSystem {

  private final LocalCluster cluster;
  private final GemmSpec spec;
  private final boolean strassen;
  private ArrayList<DBox<double[]>> a;
  private ArrayList<DBox<double[]>> b;
  private ArrayList<DBox<double[]>> c;

  private DsmGemm(LocalCluster cluster, GemmSpec spec, boolean strassen) {
    this.cluster = cluster;
    this.spec = spec;
    this.strassen = strassen;
  }

  static GemmSystem startBlocked(int nodes, GemmSpec spec) {
    return start(nodes, spec, false);
  }

  static GemmSystem startStrassen(int nodes, GemmSpec spec) {
    return start(nodes, spec, true);
  }

  private static GemmSystem start(int nodes, GemmSpec spec, boolean strassen) {
    LocalCluster cluster =
        LocalCluster.withNodes(nodes)
            .name(strassen ? "gemm-dsm-strassen" : "gemm-dsm")
            .config(config(spec))
            .start();
    return new DsmGemm(cluster, spec, strassen);
  }

  /**
   * Task threads as many as the cores (the peers compute on as many); a read cache that holds a
   * node's copies of A and B, so that no tile is read twice for want of room; a task deadline that
   * a product at 0.1 GFLOP/s would meet, as the peers' requests have.
   */
  static String config(GemmSpec spec) {
    int cores = Runtime.getRuntime().availableProcessors();
    long cacheBytes = Math.max(256L << 20, 2 * spec.matrixBytes() + 2 * spec.tileBytes());
    long timeoutSeconds = Math.max(300, 60 + (long) (spec.flops() / 1e8));
    return "pekko.dsm.tasks.threads = "
        + Math.max(2, cores)
        + "\npekko.dsm.read-cache.max-unpinned-size = "
        + cacheBytes
        + "\npekko.dsm.tasks.timeout = "
        + timeoutSeconds
        + "s\n";
  }

  @Override
  public int nodes() {
    return cluster.size();
  }

  @Override
  public void load() {
    a = generate(Tiles.A);
    b = generate(Tiles.B);
    c = strassen ? null : zeros();
  }

  /** The input tiles, each made by a task on the node it is placed on. */
  private ArrayList<DBox<double[]>> generate(int matrix) {
    int tile = spec.tile();
    boolean ones = spec.inputs() == GemmSpec.Inputs.ONES;
    long seed = spec.seed();
    return place(index -> () -> Dsm.current().alloc(Tiles.input(matrix, index, tile, ones, seed)));
  }

  private ArrayList<DBox<double[]>> zeros() {
    int cells = spec.tileCells();
    return place(index -> () -> Dsm.current().alloc(new double[cells]));
  }

  /** Allocates tile {@code k} on node {@code k mod nodes}, all in parallel. */
  private ArrayList<DBox<double[]>> place(
      java.util.function.IntFunction<DCallable<DBox<double[]>>> make) {
    Dsm dsm = cluster.dsm(0);
    List<CompletableFuture<DBox<double[]>>> parts = new ArrayList<>();
    for (int k = 0; k < spec.tiles(); k++) {
      parts.add(
          dsm.spawnOn(cluster.nodeId(k % cluster.size()), make.apply(k)).toCompletableFuture());
    }
    ArrayList<DBox<double[]>> out = new ArrayList<>(parts.size());
    parts.forEach(p -> out.add(p.join()));
    return out;
  }

  @Override
  public long work() {
    return strassen ? -1 : spec.tiles();
  }

  @Override
  public void multiply(AtomicLong progress) {
    if (strassen) {
      c = Strassen.multiply(cluster.dsm(0), a, b, spec.grid(), spec.tile(), spec.leafTiles());
      a = null; // moved into the product: Strassen owns and drops its operands
      b = null;
    } else {
      blocked(progress);
    }
  }

  private void blocked(AtomicLong progress) {
    Dsm dsm = cluster.dsm(0);
    int g = spec.grid();
    int t = spec.tile();
    List<DRef<double[]>> rowsOfA = share(a);
    List<DRef<double[]>> columnsOfB = share(b);
    try {
      List<CompletableFuture<Object>> runs = new ArrayList<>();
      for (int i = 0; i < g; i++) {
        for (int j = 0; j < g; j++) {
          ArrayList<DRef<double[]>> row = new ArrayList<>(g);
          ArrayList<DRef<double[]>> column = new ArrayList<>(g);
          for (int k = 0; k < g; k++) {
            row.add(rowsOfA.get(i * g + k).copy());
            column.add(columnsOfB.get(k * g + j).copy());
          }
          DFunction<double[], Object> compute =
              tile -> {
                for (int k = 0; k < row.size(); k++) {
                  Tiles.multiplyAdd(row.get(k).get(), column.get(k).get(), tile, t);
                }
                return null;
              };
          runs.add(
              dsm.spawnTo(c.get(i * g + j), compute)
                  .toCompletableFuture()
                  .whenComplete((ok, failure) -> progress.incrementAndGet()));
        }
      }
      CompletableFuture.allOf(runs.toArray(CompletableFuture[]::new)).join();
    } finally {
      rowsOfA.forEach(DRef::release);
      columnsOfB.forEach(DRef::release);
    }
  }

  /** One shared reference to each tile, all lent in parallel. */
  private static List<DRef<double[]>> share(List<DBox<double[]>> tiles) {
    List<CompletableFuture<DRef<double[]>>> lends = new ArrayList<>();
    for (DBox<double[]> tile : tiles) {
      lends.add(tile.shareAsync().toCompletableFuture());
    }
    List<DRef<double[]>> refs = new ArrayList<>();
    lends.forEach(l -> refs.add(l.join()));
    return refs;
  }

  @Override
  public double[] resultTile(int index) {
    DBox<double[]> tile = c.get(index);
    return tile == null ? new double[spec.tileCells()] : tile.read(double[]::clone);
  }

  @Override
  public Traffic traffic() {
    cluster.awaitQuiet(Duration.ofMillis(300));
    long bytes = 0;
    long messages = 0;
    for (int i = 0; i < cluster.size(); i++) {
      DsmCounters counters = cluster.dsm(i).counters();
      bytes += counters.bytesRead();
      messages += counters.messagesSent();
    }
    return new Traffic(bytes, messages);
  }

  @Override
  public void close() {
    cluster.close();
  }
}
