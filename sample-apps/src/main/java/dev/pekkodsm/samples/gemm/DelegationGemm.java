package dev.pekkodsm.samples.gemm;

import dev.pekkodsm.testkit.LocalCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.ShardCoordinator;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.ShardingMessageExtractor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.dispatch.Futures;
import scala.collection.immutable.IndexedSeq;
import scala.concurrent.Future;

/**
 * Delegation, Grappa's model and what a Pekko user writes today: every tile of A, B and C is a
 * Cluster Sharding entity (tile {@code k} in shard {@code k mod nodes}, one shard per node), and
 * every access to a tile is an {@code ask} to its entity, wherever it lives. The work is sent to
 * the data as for pekko-dsm's blocked product: the driver asks each C entity to compute its tile,
 * and that entity fetches the A and B tiles of its row and column, one {@code ask} each, with no
 * cache, multiplying on its node's compute pool as they arrive.
 *
 * <p>Bytes and messages between nodes are counted from the replies, which name the node that served
 * them: a request served on another node is a request and a reply on the wire.
 */
final class DelegationGemm implements GemmSystem {

  /** What a tile entity accepts. */
  sealed interface Command extends Peers.Message permits Init, Get, Compute, Computed {}

  /** Make input tile {@code index} of {@code matrix} here (C tiles start as zeros). */
  record Init(int matrix, int index, int tile, boolean ones, long seed, ActorRef<Ack> replyTo)
      implements Command {}

  /** Reply with the tile's cells. */
  record Get(ActorRef<TileReply> replyTo) implements Command {}

  /** Compute this C tile, row {@code row} and column {@code column} of the grid. */
  record Compute(int row, int column, int grid, int tile, ActorRef<Ack> replyTo)
      implements Command {}

  /** The product of a {@link Compute}, back on the entity ({@code cells} null if it failed). */
  record Computed(double[] cells, long[] remote, String error, ActorRef<Ack> replyTo)
      implements Command {}

  record TileReply(double[] cells, int servedBy) implements Peers.Message {}

  /** Done; for a {@link Compute}, what its fetches cost, or why it failed. */
  record Ack(int servedBy, long bytesFetchedRemotely, long remoteRequests, String error)
      implements Peers.Message {}

  static final EntityTypeKey<Command> TILE = EntityTypeKey.create(Command.class, "gemm-tile");

  private static final String[] NAMES = {"A", "B", "C"};

  private final LocalCluster cluster;
  private final GemmSpec spec;
  private final Duration computeTimeout;
  private final List<ExecutorService> pools = new ArrayList<>();
  private final List<ClusterSharding> sharding = new ArrayList<>();
  private final LongAdder bytes = new LongAdder();
  private final LongAdder messages = new LongAdder();

  private DelegationGemm(LocalCluster cluster, GemmSpec spec) {
    this.cluster = cluster;
    this.spec = spec;
    // However slow the machine, at least 0.1 GFLOP/s; a minute more for the fetches.
    this.computeTimeout = Duration.ofSeconds(60 + (long) (spec.flops() / 1e8));
    int nodes = cluster.size();
    for (int i = 0; i < nodes; i++) {
      int node = i;
      ExecutorService pool = Peers.computePool("gemm-delegation-" + i);
      pools.add(pool);
      ClusterSharding s = ClusterSharding.get(cluster.system(i));
      s.init(
          Entity.of(TILE, ctx -> tile(node, s, pool)).withMessageExtractor(new RoundRobin(nodes)));
      sharding.add(s);
    }
  }

  static GemmSystem start(int nodes, GemmSpec spec) {
    LocalCluster cluster = Peers.start(nodes, spec, "gemm-delegation");
    try {
      return new DelegationGemm(cluster, spec);
    } catch (RuntimeException | Error e) {
      cluster.close();
      throw e;
    }
  }

  /** Tile {@code k} (entity id {@code "A:k"}) in shard {@code k mod nodes}. */
  private static final class RoundRobin
      extends ShardingMessageExtractor<ShardingEnvelope<Command>, Command> {
    private final int shards;

    RoundRobin(int shards) {
      this.shards = shards;
    }

    @Override
    public String entityId(ShardingEnvelope<Command> envelope) {
      return envelope.entityId();
    }

    @Override
    public String shardId(String entityId) {
      return Integer.toString(Integer.parseInt(entityId.substring(2)) % shards);
    }

    @Override
    public Command unwrapMessage(ShardingEnvelope<Command> envelope) {
      return envelope.message();
    }
  }

  /**
   * Shard {@code k} on node {@code k} (in the cluster's order), never rebalanced: the tiles sit
   * where pekko-dsm's do. A shard asked for before its node's region has registered is refused, and
   * its region asks again.
   */
  private static final class ShardPerNode extends ShardCoordinator.AbstractShardAllocationStrategy {
    private final List<Address> nodes = new ArrayList<>();
    private final Address self;

    ShardPerNode(LocalCluster cluster, int self) {
      for (int i = 0; i < cluster.size(); i++) {
        nodes.add(Cluster.get(cluster.system(i)).selfMember().address());
      }
      this.self = nodes.get(self);
    }

    @Override
    public Future<org.apache.pekko.actor.ActorRef> allocateShard(
        org.apache.pekko.actor.ActorRef requester,
        String shardId,
        Map<org.apache.pekko.actor.ActorRef, IndexedSeq<String>> current) {
      Address wanted = nodes.get(Integer.parseInt(shardId));
      for (org.apache.pekko.actor.ActorRef region : current.keySet()) {
        Address at = region.path().address();
        if ((at.hasGlobalScope() ? at : self).equals(wanted)) {
          return Futures.successful(region);
        }
      }
      return Futures.failed(
          new IllegalStateException("the region of " + wanted + " has not registered yet"));
    }

    @Override
    public Future<Set<String>> rebalance(
        Map<org.apache.pekko.actor.ActorRef, IndexedSeq<String>> current, Set<String> inProgress) {
      return Futures.successful(Set.of());
    }
  }

  private static String id(int matrix, int index) {
    return NAMES[matrix] + ":" + index;
  }

  private static Behavior<Command> tile(int node, ClusterSharding sharding, ExecutorService pool) {
    return Behaviors.setup(
        ctx -> {
          double[][] cells = {null};
          return Behaviors.receive(Command.class)
              .onMessage(
                  Init.class,
                  init -> {
                    cells[0] =
                        init.matrix() == 2
                            ? new double[init.tile() * init.tile()]
                            : Tiles.input(
                                init.matrix(), init.index(), init.tile(), init.ones(), init.seed());
                    init.replyTo().tell(new Ack(node, 0, 0, null));
                    return Behaviors.same();
                  })
              .onMessage(
                  Get.class,
                  get -> {
                    get.replyTo().tell(new TileReply(cells[0], node));
                    return Behaviors.same();
                  })
              .onMessage(
                  Compute.class,
                  compute -> {
                    double[] acc = cells[0].clone();
                    ctx.pipeToSelf(
                        product(node, sharding, pool, compute, acc),
                        (remote, failure) ->
                            failure != null
                                ? new Computed(null, null, failure.toString(), compute.replyTo())
                                : new Computed(acc, remote, null, compute.replyTo()));
                    return Behaviors.same();
                  })
              .onMessage(
                  Computed.class,
                  done -> {
                    if (done.cells() == null) {
                      done.replyTo().tell(new Ack(node, 0, 0, done.error()));
                    } else {
                      cells[0] = done.cells();
                      done.replyTo().tell(new Ack(node, done.remote()[0], done.remote()[1], null));
                    }
                    return Behaviors.same();
                  })
              .build();
        });
  }

  /**
   * {@code acc += A(i, k) B(k, j)} for every k: both tiles fetched by ask, multiplied on the pool,
   * one k after the other. Completes with the bytes and requests it took from other nodes.
   */
  private static CompletionStage<long[]> product(
      int node, ClusterSharding sharding, ExecutorService pool, Compute compute, double[] acc) {
    long[] remote = {0, 0};
    CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
    for (int k = 0; k < compute.grid(); k++) {
      int kk = k;
      chain =
          chain.thenCompose(
              ignored -> {
                CompletableFuture<TileReply> x =
                    fetch(sharding, id(Tiles.A, compute.row() * compute.grid() + kk));
                CompletableFuture<TileReply> y =
                    fetch(sharding, id(Tiles.B, kk * compute.grid() + compute.column()));
                return x.thenCombine(y, (a, b) -> new TileReply[] {a, b})
                    .thenAcceptAsync(
                        ab -> {
                          for (TileReply r : ab) {
                            if (r.servedBy() != node) {
                              remote[0] += 8L * r.cells().length;
                              remote[1]++;
                            }
                          }
                          Tiles.multiplyAdd(ab[0].cells(), ab[1].cells(), acc, compute.tile());
                        },
                        pool);
              });
    }
    return chain.thenApply(ignored -> remote);
  }

  private static CompletableFuture<TileReply> fetch(ClusterSharding sharding, String entityId) {
    EntityRef<Command> ref = sharding.entityRefFor(TILE, entityId);
    return ref.<TileReply>ask(Get::new, Peers.ASK_TIMEOUT).toCompletableFuture();
  }

  @Override
  public int nodes() {
    return cluster.size();
  }

  @Override
  public void load() {
    List<CompletionStage<Ack>> acks = new ArrayList<>();
    boolean ones = spec.inputs() == GemmSpec.Inputs.ONES;
    for (int matrix = 0; matrix < 3; matrix++) {
      for (int k = 0; k < spec.tiles(); k++) {
        int m = matrix;
        int index = k;
        acks.add(
            sharding
                .get(0)
                .entityRefFor(TILE, id(m, index))
                .ask(
                    replyTo -> new Init(m, index, spec.tile(), ones, spec.seed(), replyTo),
                    Peers.ASK_TIMEOUT));
      }
    }
    acks.forEach(Peers::await);
  }

  @Override
  public long work() {
    return spec.tiles();
  }

  @Override
  public void multiply(AtomicLong progress) {
    int g = spec.grid();
    List<CompletableFuture<Ack>> acks = new ArrayList<>();
    for (int i = 0; i < g; i++) {
      for (int j = 0; j < g; j++) {
        int row = i;
        int column = j;
        acks.add(
            sharding
                .get(0)
                .entityRefFor(TILE, id(2, i * g + j))
                .<Ack>ask(
                    replyTo -> new Compute(row, column, g, spec.tile(), replyTo), computeTimeout)
                .toCompletableFuture()
                .whenComplete(
                    (ack, failure) -> {
                      if (ack != null && ack.error() == null) {
                        bytes.add(ack.bytesFetchedRemotely());
                        messages.add(2 * ack.remoteRequests() + (ack.servedBy() != 0 ? 2 : 0));
                      }
                      progress.incrementAndGet();
                    }));
      }
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).join();
    for (CompletableFuture<Ack> ack : acks) {
      if (ack.join().error() != null) {
        throw new IllegalStateException("a C tile failed: " + ack.join().error());
      }
    }
  }

  @Override
  public double[] resultTile(int index) {
    return Peers.await(
            sharding.get(0).entityRefFor(TILE, id(2, index)).ask(Get::new, Peers.ASK_TIMEOUT))
        .cells()
        .clone();
  }

  @Override
  public Traffic traffic() {
    return new Traffic(bytes.sum(), messages.sum());
  }

  @Override
  public void close() {
    cluster.close();
    pools.forEach(ExecutorService::shutdownNow);
  }
}
