package dev.pekkodsm.samples.dataframe;

import dev.pekkodsm.testkit.LocalCluster;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * Delegation, what a Pekko user writes today: each block of {@link GroupByShape#blockRows} rows is
 * a Cluster Sharding entity that reads its rows from the data file when told to load, and a
 * question is an {@code ask} to every block entity, which computes its partial aggregate ({@link
 * GroupBy#partial}, the same code as pekko-dsm's) and replies with it; the caller merges the
 * replies. Messages are records serialized with Jackson CBOR, as the Pekko documentation
 * recommends; shards are placed by sharding's default strategy, and entities are never passivated
 * (they hold the rows). Artery's frame limit is raised to {@value #FRAME_MIB} MiB so that a block's
 * partial fits in one reply.
 */
final class DelegationFrame implements FrameSystem {

  /** Marker of the messages bound to Jackson CBOR. */
  interface Message {}

  /** What a block entity accepts. */
  sealed interface Command extends Message permits Load, Query {}

  /** Read rows [from, to) of the data file into this block. */
  record Load(String file, int from, int to, ActorRef<Loaded> replyTo) implements Command {}

  /** Compute the partial aggregate of question {@code question} (its ordinal). */
  record Query(int question, int rows, int k, ActorRef<Reply> replyTo) implements Command {}

  /** A block's rows are loaded. */
  record Loaded(int rows, String error) implements Message {}

  /** A block's partial aggregate, or the error that prevented it. */
  record Reply(Partial partial, String error) implements Message {}

  static final EntityTypeKey<Command> BLOCK = EntityTypeKey.create(Command.class, "df-block");

  static final int FRAME_MIB = 32;

  static final String CONFIG =
      "pekko.actor.serialization-bindings {\n"
          + "  \"dev.pekkodsm.samples.dataframe.DelegationFrame$Message\" = jackson-cbor\n"
          + "}\n"
          + "pekko.remote.artery.advanced.maximum-frame-size = "
          + FRAME_MIB
          + "MiB\n"
          + "pekko.cluster.sharding.passivation.strategy = none\n"
          + DsmFrame.PATIENT_CLUSTER;

  private static final Duration TIMEOUT = Duration.ofMinutes(10);

  private final LocalCluster cluster;
  private final GroupByShape shape;
  private final GroupBy.Levels levels;
  private final List<EntityRef<Command>> blocks = new ArrayList<>();

  private DelegationFrame(LocalCluster cluster, Path file, GroupByShape shape) throws Exception {
    this.cluster = cluster;
    this.shape = shape;
    this.levels = GroupBy.Levels.of(shape);
    for (int i = 0; i < cluster.size(); i++) {
      ClusterSharding.get(cluster.system(i)).init(Entity.of(BLOCK, ctx -> block()));
    }
    ClusterSharding sharding = ClusterSharding.get(cluster.system(0));
    int count = shape.blocks(cluster.size());
    int blockRows = shape.blockRows(cluster.size());
    List<CompletableFuture<Loaded>> loads = new ArrayList<>();
    for (int b = 0; b < count; b++) {
      EntityRef<Command> ref = sharding.entityRefFor(BLOCK, Integer.toString(b));
      blocks.add(ref);
      int from = b * blockRows;
      int to = Math.min(shape.rows(), from + blockRows);
      String path = file.toAbsolutePath().toString();
      loads.add(
          ref.<Loaded>ask(replyTo -> new Load(path, from, to, replyTo), TIMEOUT)
              .toCompletableFuture());
    }
    for (CompletableFuture<Loaded> load : loads) {
      Loaded loaded = load.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      if (loaded.error() != null) {
        throw new IllegalStateException("a block did not load: " + loaded.error());
      }
    }
  }

  static FrameSystem start(int nodes, Path file, GroupByShape shape) throws Exception {
    LocalCluster cluster =
        LocalCluster.withNodes(nodes).name("df-delegation").config(CONFIG).start();
    try {
      return new DelegationFrame(cluster, file, shape);
    } catch (Exception | Error e) {
      cluster.close();
      throw e;
    }
  }

  private static Behavior<Command> block() {
    return Behaviors.setup(
        ctx -> {
          RowGroup[] rows = new RowGroup[1];
          return Behaviors.receive(Command.class)
              .onMessage(
                  Load.class,
                  load -> {
                    try {
                      rows[0] = GroupByTable.read(Path.of(load.file()), load.from(), load.to());
                      load.replyTo().tell(new Loaded(rows[0].rows(), null));
                    } catch (IOException | RuntimeException e) {
                      load.replyTo().tell(new Loaded(0, e.toString()));
                    }
                    return Behaviors.same();
                  })
              .onMessage(
                  Query.class,
                  query -> {
                    try {
                      Partial p =
                          GroupBy.partial(
                              Question.values()[query.question()],
                              new GroupByShape(query.rows(), query.k()),
                              rows[0]);
                      query.replyTo().tell(new Reply(p, null));
                    } catch (RuntimeException e) {
                      query.replyTo().tell(new Reply(null, e.toString()));
                    }
                    return Behaviors.same();
                  })
              .build();
        });
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
    List<CompletableFuture<Reply>> asks = new ArrayList<>(blocks.size());
    for (EntityRef<Command> block : blocks) {
      asks.add(
          block
              .<Reply>ask(
                  replyTo -> new Query(q.ordinal(), shape.rows(), shape.k(), replyTo), TIMEOUT)
              .toCompletableFuture());
    }
    List<Partial> parts = new ArrayList<>(asks.size());
    for (CompletableFuture<Reply> ask : asks) {
      Reply reply = ask.get(TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
      if (reply.error() != null) {
        throw new IllegalStateException("a block failed " + q.id() + ": " + reply.error());
      }
      parts.add(reply.partial());
    }
    return GroupBy.merge(q, shape, levels, parts);
  }

  @Override
  public void close() {
    cluster.close();
  }
}
