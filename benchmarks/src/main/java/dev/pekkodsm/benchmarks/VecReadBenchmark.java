package dev.pekkodsm.benchmarks;

import dev.pekkodsm.DVec;
import dev.pekkodsm.DsmCounters;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.testkit.LocalCluster;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Bulk read throughput of a {@link DVec} over shm: one {@code forEach} pass over {@value #TILES}
 * tiles of {@value #TILE_BYTES} bytes ({@code double[]} of {@value #TILE_DOUBLES} elements, chunk
 * size 1) that live on the other node, every tile read one-sided from that node's arena and decoded
 * into a new array; against a plain Java copy of the same bytes.
 *
 * <p>Why: a vector of tiles is how a DSM program reads a large data set computed elsewhere (a
 * matrix, a model's weights). Over shm such a read is a memory copy plus Kryo decoding, so it
 * should run at a useful fraction of what copying the same bytes in one JVM costs, and these
 * benchmarks say which fraction.
 *
 * <p><b>Bytes per operation:</b> one operation is one pass over the whole vector, {@value
 * #BYTES_PER_OP} bytes (4 MiB) of tile data; each tile's snapshot adds a few bytes of Kryo class
 * ids and lengths and the frame header. Throughput mode: the score is passes per second, and the
 * {@code megabytes} counter ({@link Bandwidth}, reported by JMH as a secondary result in "ops/s")
 * is the same rate in MB/s (10<sup>6</sup> bytes), so no arithmetic is needed: MB/s = passes/s x
 * {@value #MEGABYTES_PER_OP}.
 *
 * <p><b>The read cache is cold for every pass.</b> Node 0's read cache keys copies by colored
 * address: a copy in use by a live reference is pinned and never evicted, an unpinned one is kept
 * for later reads in a cache bounded by {@code pekko.dsm.read-cache.max-unpinned-size}. The vector
 * is read from its owner on node 0 (built on node 1 with {@link DVec.Placement#LOCAL} and sent to
 * node 0 with {@link LocalCluster#send}, so node 0 owns every chunk and every chunk lives on node
 * 1): its {@code forEach} reads each chunk under a shared borrow, which pins the copy only for the
 * borrow. This cluster runs with {@code max-unpinned-size = 0}, so the copy is evicted the moment
 * the borrow ends (every entry weighs at least one byte) and the next pass reads the chunk from
 * node 1's arena again: {@value #TILES} one-sided reads per pass, which setup checks for two passes
 * and the trial counts (it prints {@code ONE-SIDED READS PER PASS}). Nothing else on the read path
 * changes: it is the path of any cache miss. The alternative, advancing every chunk's color between
 * passes ({@code updateChunks}, untimed), was rejected: it needs a per-invocation setup, and
 * republishes 4 MiB of snapshots into new arena slots before every pass.
 *
 * <ul>
 *   <li>{@link #forEachCold}: the pass described above, on node 0;
 *   <li>{@link #forEachCached}: a pass over a read-only view ({@link DVec#share()}) on node 0 whose
 *       references have read their chunks once and keep them pinned: no copy at all, the cost of
 *       iterating over cache hits (its score is passes per second; it moves no bytes);
 *   <li>{@link #javaClone}: the baseline, {@code clone()} of each of {@value #TILES} local {@code
 *       double[]} tiles of the same size, as a decoded read allocates each tile anew;
 *   <li>{@link #javaArraycopy}: {@code System.arraycopy} of the same tiles into preallocated ones:
 *       the memory bandwidth of this machine for a 4 MiB copy, with no allocation.
 * </ul>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(
    value = 1,
    jvmArgs = {"-Xms2g", "-Xmx2g", "-XX:+UseParallelGC"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class VecReadBenchmark {

  static final int TILES = 64;
  static final int TILE_BYTES = 64 * 1024;
  static final int TILE_DOUBLES = TILE_BYTES / Double.BYTES;
  static final long BYTES_PER_OP = (long) TILES * TILE_BYTES;
  static final double MEGABYTES_PER_OP = BYTES_PER_OP / 1e6;

  /** The two-node cluster, with no unpinned copies kept, and the vector owned by node 0. */
  @State(Scope.Benchmark)
  public static class Nodes {
    LocalCluster cluster;
    DVec<double[]> vec;
    long passes;
    private long readsBefore;

    /**
     * Builds the vector on node 1, sends it to node 0 and checks that two passes there each read
     * every tile one-sided and return its content.
     */
    @Setup(Level.Trial)
    public void start() {
      cluster = Clusters.twoNodes("pekko.dsm.read-cache.max-unpinned-size = 0");
      DVec<double[]> built =
          cluster.dsm(1).vec(TILES, 1, VecReadBenchmark::tile, DVec.Placement.LOCAL);
      vec = cluster.send(1, 0, built);
      NodeId home = cluster.nodeId(1);
      for (int k = 0; k < TILES; k++) {
        if (!vec.chunkAddress(k).node().equals(home)) {
          throw new IllegalStateException("tile " + k + " does not live on node 1: " + vec);
        }
      }
      for (int pass = 0; pass < 2; pass++) {
        DsmCounters before = cluster.dsm(0).counters();
        vec.forEach(
            (t, i) -> {
              if (!Arrays.equals(t, tile(i))) {
                throw new IllegalStateException("tile " + i + " was read back wrong");
              }
            });
        DsmCounters read = cluster.dsm(0).counters().minus(before);
        if (read.oneSidedReads() != TILES || read.bytesRead() < BYTES_PER_OP) {
          throw new IllegalStateException(
              "pass "
                  + pass
                  + ": expected "
                  + TILES
                  + " one-sided reads of at least "
                  + BYTES_PER_OP
                  + " bytes, got "
                  + read);
        }
      }
      startCounting();
    }

    /** Counts one-sided reads from now on: call at the end of every setup that reads. */
    void startCounting() {
      readsBefore = cluster.dsm(0).counters().oneSidedReads();
    }

    /** Prints one-sided reads per measured pass, frees the vector and stops the cluster. */
    @TearDown(Level.Trial)
    public void stop(BenchmarkParams params) {
      try {
        if (passes > 0) {
          long reads = cluster.dsm(0).counters().oneSidedReads() - readsBefore;
          boolean cold = params.getBenchmark().endsWith("Cold");
          long expected = cold ? TILES : 0;
          System.out.printf(
              "%nONE-SIDED READS PER PASS: %.3f (%s)%n  %d reads over %d passes%n",
              (double) reads / passes,
              reads == expected * passes ? "as designed: " + expected : "UNEXPECTED",
              reads,
              passes);
        }
        vec.drop();
      } finally {
        cluster.close();
      }
    }
  }

  /** A read-only view of the vector on node 0, every tile read once and kept pinned. */
  @State(Scope.Benchmark)
  public static class View {
    DVec<double[]> view;

    /** Shares the vector and reads the view once; checks that a second pass reads nothing. */
    @Setup(Level.Trial)
    public void share(Nodes nodes) {
      view = nodes.vec.share();
      view.forEach((tile, i) -> {});
      long before = nodes.cluster.dsm(0).counters().oneSidedReads();
      view.forEach((tile, i) -> {});
      long reads = nodes.cluster.dsm(0).counters().oneSidedReads() - before;
      if (reads != 0) {
        throw new IllegalStateException("a pass over a read view did " + reads + " reads");
      }
      nodes.startCounting();
    }

    /** Releases the view. */
    @TearDown(Level.Trial)
    public void release() {
      view.drop();
    }
  }

  /** The baselines' local tiles: the same content as the vector's, and copy targets. */
  @State(Scope.Thread)
  public static class Tiles {
    final double[][] source = new double[TILES][];
    final double[][] target = new double[TILES][TILE_DOUBLES];

    /** Fills the source tiles. */
    @Setup(Level.Trial)
    public void fill() {
      for (int k = 0; k < TILES; k++) {
        source[k] = tile(k);
      }
    }
  }

  /**
   * The bytes moved, as a secondary result in MB/s (JMH prints it in "ops/s": one counted operation
   * is one megabyte). Reset at every iteration, as JMH requires.
   */
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  @State(Scope.Thread)
  public static class Bandwidth {
    /** Megabytes (10^6 bytes) of tile data read or copied in this iteration. */
    public double megabytes;

    /** Starts the iteration's count at zero. */
    @Setup(Level.Iteration)
    public void reset() {
      megabytes = 0;
    }
  }

  /** One pass over the vector on its owner's node, every tile read one-sided and decoded. */
  @Benchmark
  public void forEachCold(Nodes nodes, Bandwidth bandwidth, Blackhole bh) {
    nodes.vec.forEach((tile, i) -> bh.consume(tile));
    nodes.passes++;
    bandwidth.megabytes += MEGABYTES_PER_OP;
  }

  /** One pass over a view whose tiles are cached: no read, no copy. */
  @Benchmark
  public void forEachCached(Nodes nodes, View view, Blackhole bh) {
    view.view.forEach((tile, i) -> bh.consume(tile));
    nodes.passes++;
  }

  /** Baseline: a fresh copy of every local tile, as decoding makes one. */
  @Benchmark
  public void javaClone(Tiles tiles, Bandwidth bandwidth, Blackhole bh) {
    for (double[] tile : tiles.source) {
      bh.consume(tile.clone());
    }
    bandwidth.megabytes += MEGABYTES_PER_OP;
  }

  /** Baseline: a copy of every local tile into a preallocated one. */
  @Benchmark
  public void javaArraycopy(Tiles tiles, Bandwidth bandwidth, Blackhole bh) {
    for (int k = 0; k < TILES; k++) {
      System.arraycopy(tiles.source[k], 0, tiles.target[k], 0, TILE_DOUBLES);
    }
    bh.consume(tiles.target);
    bandwidth.megabytes += MEGABYTES_PER_OP;
  }

  /** Tile {@code index}: distinct values, so a tile read back from the wrong slot is caught. */
  static double[] tile(Integer index) {
    double[] tile = new double[TILE_DOUBLES];
    for (int j = 0; j < TILE_DOUBLES; j++) {
      tile[j] = (double) index * TILE_DOUBLES + j;
    }
    return tile;
  }
}
