package dev.pekkodsm.samples.dataframe;

import dev.pekkodsm.DBox;
import dev.pekkodsm.DVec;
import dev.pekkodsm.Dsm;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.testkit.LocalCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * The DataFrame on pekko-dsm: the table is a {@code DVec<RowGroup>} of blocks of {@link
 * GroupByShape#blockRows} rows, one block per chunk, placed round-robin over the nodes and read
 * from the data file by the node each block is placed on. A question is one {@link DVec#mapChunks}:
 * every block's partial aggregate is computed where the block lives, in parallel; a small partial
 * comes back in the task's reply, a large one stays on its node in a {@link DBox} that the caller
 * reads one-sided and drops. The caller merges the partials into the answer ({@link
 * GroupBy#merge}).
 */
final class DsmFrame implements FrameSystem {

  /** Partials up to this size come back in the task's reply (frames are 256 KiB at most). */
  static final long INLINE_BYTES = 128 * 1024;

  /**
   * Failure detection for a benchmark on a busy machine: LocalCluster's test settings take a node
   * that pauses for a second (a full GC of a large table, two cores shared by many threads) for
   * dead and down it. Used by the delegation peer too.
   */
  static final String PATIENT_CLUSTER =
      "pekko.cluster.failure-detector.acceptable-heartbeat-pause = 15s\n"
          + "pekko.cluster.split-brain-resolver.stable-after = 30s\n";

  static final int ROW_GROUP_ID = 1200;
  static final int PARTIAL_ID = 1201;

  private static final Duration TIMEOUT = Duration.ofMinutes(10);

  private final LocalCluster cluster;
  private final GroupByShape shape;
  private final GroupBy.Levels levels;
  private final DVec<RowGroup> table;
  private final DVec<RowGroup> view;

  private DsmFrame(LocalCluster cluster, Path file, GroupByShape shape) {
    this.cluster = cluster;
    this.shape = shape;
    this.levels = GroupBy.Levels.of(shape);
    String path = file.toAbsolutePath().toString();
    int rows = shape.rows();
    int blockRows = shape.blockRows(cluster.size());
    this.table =
        cluster
            .dsm(0)
            .vec(
                shape.blocks(cluster.size()),
                1,
                block -> {
                  int from = block * blockRows;
                  try {
                    return GroupByTable.read(Path.of(path), from, Math.min(rows, from + blockRows));
                  } catch (IOException e) {
                    throw new UncheckedIOException(e);
                  }
                },
                DVec.Placement.ROUND_ROBIN);
    this.view = table.share();
  }

  static FrameSystem start(int nodes, Path file, GroupByShape shape) {
    LocalCluster cluster =
        LocalCluster.withNodes(nodes)
            .name("df-dsm")
            .config(PATIENT_CLUSTER)
            .register(RowGroup.class, ROW_GROUP_ID)
            .register(Partial.class, PARTIAL_ID)
            .start();
    try {
      return new DsmFrame(cluster, file, shape);
    } catch (RuntimeException | Error e) {
      cluster.close();
      throw e;
    }
  }

  @Override
  public int nodes() {
    return cluster.size();
  }

  @Override
  public Answered answer(Question q) throws Exception {
    return FrameSystem.timed(() -> compute(q));
  }

  private Answer compute(Question q) throws Exception {
    List<Object> results =
        q == Question.Q6 || q == Question.Q10 ? perBlock(q.ordinal()) : perNode(q.ordinal());
    List<CompletableFuture<Partial>> reads = new ArrayList<>(results.size());
    List<DBox<Partial>> boxes = new ArrayList<>();
    for (Object r : results) {
      if (r instanceof Partial p) {
        reads.add(CompletableFuture.completedFuture(p));
      } else {
        @SuppressWarnings("unchecked")
        DBox<Partial> box = (DBox<Partial>) r;
        boxes.add(box);
        reads.add(box.readAsync(p -> p).toCompletableFuture());
      }
    }
    try {
      List<Partial> parts = new ArrayList<>(reads.size());
      for (CompletableFuture<Partial> read : reads) {
        parts.add(read.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
      }
      return GroupBy.merge(q, shape, levels, parts);
    } finally {
      boxes.forEach(DBox::dropAsync);
    }
  }

  /** One partial per block, each computed where its block lives ({@code mapChunks}). */
  private List<Object> perBlock(int question) throws Exception {
    int rows = shape.rows();
    int k = shape.k();
    return table
        .<Object>mapChunks(
            blocks ->
                travel(
                    GroupBy.partial(
                        Question.values()[question], new GroupByShape(rows, k), blocks.get(0))))
        .toCompletableFuture()
        .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * One partial per node: a task on each node reads that node's blocks in place (through a copy of
   * the shared view, released at the end), aggregates them in parallel and combines their partials
   * before anything travels.
   */
  private List<Object> perNode(int question) throws Exception {
    int rows = shape.rows();
    int k = shape.k();
    List<CompletableFuture<Object>> runs = new ArrayList<>();
    for (int n = 0; n < cluster.size(); n++) {
      DVec<RowGroup> blocks = view.share();
      runs.add(
          cluster
              .dsm(0)
              .<Object>spawnOn(cluster.nodeId(n), () -> combineHere(blocks, question, rows, k))
              .toCompletableFuture());
    }
    List<Object> out = new ArrayList<>(runs.size());
    for (CompletableFuture<Object> run : runs) {
      out.add(run.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
    }
    return out;
  }

  private static Object combineHere(DVec<RowGroup> blocks, int question, int rows, int k) {
    try {
      NodeId self = Dsm.current().self();
      Question q = Question.values()[question];
      GroupByShape shape = new GroupByShape(rows, k);
      List<Partial> parts =
          IntStream.range(0, blocks.chunkCount())
              .filter(b -> blocks.nodeOf(b).equals(self))
              .parallel()
              .mapToObj(b -> blocks.read(b, rowGroup -> GroupBy.partial(q, shape, rowGroup)))
              .toList();
      return travel(GroupBy.combinePartials(q, shape, parts));
    } finally {
      blocks.drop();
    }
  }

  /** A partial as it returns from a task: in the reply when small, else in a box left here. */
  private static Object travel(Partial p) {
    return p.bytes() <= INLINE_BYTES ? p : Dsm.current().alloc(p);
  }

  @Override
  public void close() {
    try {
      view.drop();
      table.drop();
    } finally {
      cluster.close();
    }
  }
}
