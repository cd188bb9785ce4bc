package dev.pekkodsm.samples.gemm;

import dev.pekkodsm.testkit.LocalCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Message passing, what a Pekko user writes today without shared memory: one worker actor per node
 * holds that node's tiles of A, B and C (tile {@code k} on node {@code k mod nodes}). To multiply,
 * every worker sends each of its A and B tiles, by value, to every node whose C tiles need it (once
 * per node, as a well-written program would), and computes each of its C tiles on its compute pool
 * as soon as that tile's row of A and column of B have arrived.
 *
 * <p>Each worker counts the tiles it sent to other nodes; they are the bytes between nodes, and the
 * messages with the control messages between the driver and remote workers.
 */
final class MessagesGemm implements GemmSystem {

  /** The worker's name, under {@code /system}. */
  static final String WORKER = "gemm-worker";

  /** What a worker accepts. */
  sealed interface Command extends Peers.Message permits Load, Multiply, Tile, TileDone, GetTile {}

  /** Make this node's input tiles, and its C tiles' places. */
  record Load(
      int nodes, int node, int grid, int tile, boolean ones, long seed, ActorRef<Done> replyTo)
      implements Command {}

  /** Send tiles to the workers that need them, compute this node's C tiles, then answer. */
  record Multiply(List<ActorRef<Command>> workers, ActorRef<Done> replyTo) implements Command {}

  /** An input tile, by value. */
  record Tile(int matrix, int index, double[] cells) implements Command {}

  /** A C tile's product, back on the worker ({@code cells} null if it failed). */
  record TileDone(int index, double[] cells, String error) implements Command {}

  /** Reply with a C tile's cells. */
  record GetTile(int index, ActorRef<DelegationGemm.TileReply> replyTo) implements Command {}

  /** Done; for a {@link Multiply}, what this node sent to others, or why it failed. */
  record Done(int node, long bytesSent, long tilesSent, String error) implements Peers.Message {}

  private final LocalCluster cluster;
  private final GemmSpec spec;
  private final Duration computeTimeout;
  private final List<ActorRef<Command>> workers = new ArrayList<>();
  private final List<ExecutorService> pools = new ArrayList<>();
  private final LongAdder bytes = new LongAdder();
  private final LongAdder messages = new LongAdder();

  private MessagesGemm(LocalCluster cluster, GemmSpec spec) {
    this.cluster = cluster;
    this.spec = spec;
    this.computeTimeout = Duration.ofSeconds(60 + (long) (spec.flops() / 1e8));
    ActorRefResolver driver = ActorRefResolver.get(cluster.system(0));
    for (int i = 0; i < cluster.size(); i++) {
      ExecutorService pool = Peers.computePool("gemm-messages-" + i);
      pools.add(pool);
      ActorRef<Command> local =
          cluster.system(i).systemActorOf(worker(pool), WORKER, Props.empty());
      workers.add(
          driver.resolveActorRef(
              ActorRefResolver.get(cluster.system(i)).toSerializationFormat(local)));
    }
  }

  static GemmSystem start(int nodes, GemmSpec spec) {
    LocalCluster cluster = Peers.start(nodes, spec, "gemm-messages");
    try {
      return new MessagesGemm(cluster, spec);
    } catch (RuntimeException | Error e) {
      cluster.close();
      throw e;
    }
  }

  /** One node's worker. */
  private static Behavior<Command> worker(ExecutorService pool) {
    return Behaviors.setup(
        ctx -> {
          State state = new State();
          return Behaviors.receive(Command.class)
              .onMessage(
                  Load.class,
                  load -> {
                    state.load(load);
                    load.replyTo().tell(new Done(load.node(), 0, 0, null));
                    return Behaviors.same();
                  })
              .onMessage(
                  Multiply.class,
                  multiply -> {
                    state.replyTo = multiply.replyTo();
                    state.send(multiply.workers());
                    state.computeReady(ctx.getSelf(), pool);
                    state.answerIfDone(); // a node may have no C tile at all
                    return Behaviors.same();
                  })
              .onMessage(
                  Tile.class,
                  tile -> {
                    state.received(tile);
                    state.computeReady(ctx.getSelf(), pool);
                    return Behaviors.same();
                  })
              .onMessage(
                  TileDone.class,
                  done -> {
                    state.finished(done);
                    return Behaviors.same();
                  })
              .onMessage(
                  GetTile.class,
                  get -> {
                    get.replyTo()
                        .tell(new DelegationGemm.TileReply(state.c.get(get.index()), state.node));
                    return Behaviors.same();
                  })
              .build();
        });
  }

  /** A worker's tiles and progress; touched by the worker's actor only. */
  private static final class State {
    int nodes;
    int node;
    int grid;
    int tile;
    final Map<Integer, double[]> ownA = new HashMap<>();
    final Map<Integer, double[]> ownB = new HashMap<>();
    final Map<Integer, double[]> a = new HashMap<>();
    final Map<Integer, double[]> b = new HashMap<>();
    final Map<Integer, double[]> c = new HashMap<>();
    final Set<Integer> started = new HashSet<>();
    int finished;
    long bytesSent;
    long tilesSent;
    String error;
    ActorRef<Done> replyTo;

    void load(Load load) {
      nodes = load.nodes();
      node = load.node();
      grid = load.grid();
      tile = load.tile();
      for (int k = node; k < grid * grid; k += nodes) {
        ownA.put(k, Tiles.input(Tiles.A, k, tile, load.ones(), load.seed()));
        ownB.put(k, Tiles.input(Tiles.B, k, tile, load.ones(), load.seed()));
      }
    }

    /**
     * Each own A tile (i, k) to the nodes of C's row i; each B tile (k, j) to those of column j.
     */
    void send(List<ActorRef<Command>> workers) {
      for (Map.Entry<Integer, double[]> e : ownA.entrySet()) {
        int row = e.getKey() / grid;
        Set<Integer> to = new HashSet<>();
        for (int j = 0; j < grid; j++) {
          to.add((row * grid + j) % nodes);
        }
        sendTo(to, Tiles.A, e.getKey(), e.getValue(), workers);
      }
      for (Map.Entry<Integer, double[]> e : ownB.entrySet()) {
        int column = e.getKey() % grid;
        Set<Integer> to = new HashSet<>();
        for (int i = 0; i < grid; i++) {
          to.add((i * grid + column) % nodes);
        }
        sendTo(to, Tiles.B, e.getKey(), e.getValue(), workers);
      }
    }

    private void sendTo(
        Set<Integer> to, int matrix, int index, double[] cells, List<ActorRef<Command>> workers) {
      for (int n : to) {
        if (n == node) {
          received(new Tile(matrix, index, cells));
        } else {
          workers.get(n).tell(new Tile(matrix, index, cells));
          bytesSent += 8L * cells.length;
          tilesSent++;
        }
      }
    }

    void received(Tile t) {
      (t.matrix() == Tiles.A ? a : b).put(t.index(), t.cells());
    }

    /** Starts every C tile of this node whose row of A and column of B are all here. */
    void computeReady(ActorRef<Command> self, ExecutorService pool) {
      if (replyTo == null) {
        return; // tiles that arrive before this node's own Multiply wait for it
      }
      for (int index = node; index < grid * grid; index += nodes) {
        if (started.contains(index)) {
          continue;
        }
        int i = index / grid;
        int j = index % grid;
        double[][] row = new double[grid][];
        double[][] column = new double[grid][];
        boolean ready = true;
        for (int k = 0; k < grid && ready; k++) {
          row[k] = a.get(i * grid + k);
          column[k] = b.get(k * grid + j);
          ready = row[k] != null && column[k] != null;
        }
        if (ready) {
          started.add(index);
          int at = index;
          int t = tile;
          CompletableFuture.supplyAsync(
                  () -> {
                    double[] acc = new double[t * t];
                    for (int k = 0; k < row.length; k++) {
                      Tiles.multiplyAdd(row[k], column[k], acc, t);
                    }
                    return acc;
                  },
                  pool)
              .whenComplete(
                  (acc, failure) ->
                      self.tell(
                          new TileDone(at, acc, failure == null ? null : failure.toString())));
        }
      }
    }

    void finished(TileDone done) {
      if (done.cells() == null && error == null) {
        error = done.error();
      }
      c.put(done.index(), done.cells());
      finished++;
      answerIfDone();
    }

    void answerIfDone() {
      int mine = (grid * grid - node + nodes - 1) / nodes;
      if (replyTo != null && finished == mine) {
        replyTo.tell(new Done(node, bytesSent, tilesSent, error));
        replyTo = null;
        a.clear();
        b.clear();
        started.clear();
        finished = 0;
        bytesSent = 0;
        tilesSent = 0;
        error = null;
      }
    }
  }

  @Override
  public int nodes() {
    return cluster.size();
  }

  @Override
  public void load() {
    List<CompletionStage<Done>> loaded = new ArrayList<>();
    boolean ones = spec.inputs() == GemmSpec.Inputs.ONES;
    for (int i = 0; i < workers.size(); i++) {
      int node = i;
      loaded.add(
          AskPattern.ask(
              workers.get(i),
              replyTo ->
                  new Load(
                      workers.size(), node, spec.grid(), spec.tile(), ones, spec.seed(), replyTo),
              Peers.ASK_TIMEOUT,
              cluster.system(0).scheduler()));
    }
    loaded.forEach(Peers::await);
  }

  @Override
  public long work() {
    return workers.size();
  }

  @Override
  public void multiply(AtomicLong progress) {
    List<CompletableFuture<Done>> done = new ArrayList<>();
    for (int i = 0; i < workers.size(); i++) {
      done.add(
          AskPattern.<Command, Done>ask(
                  workers.get(i),
                  replyTo -> new Multiply(workers, replyTo),
                  computeTimeout,
                  cluster.system(0).scheduler())
              .toCompletableFuture()
              .whenComplete((d, failure) -> progress.incrementAndGet()));
    }
    CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).join();
    for (CompletableFuture<Done> f : done) {
      Done d = f.join();
      if (d.error() != null) {
        throw new IllegalStateException("node " + d.node() + " failed: " + d.error());
      }
      bytes.add(d.bytesSent());
      // Tiles sent, and the Multiply and Done of every worker on another node than the driver.
      messages.add(d.tilesSent() + (d.node() != 0 ? 2 : 0));
    }
  }

  @Override
  public double[] resultTile(int index) {
    ActorRef<Command> worker = workers.get(index % workers.size());
    return Peers.await(
            AskPattern.<Command, DelegationGemm.TileReply>ask(
                worker,
                replyTo -> new GetTile(index, replyTo),
                Peers.ASK_TIMEOUT,
                cluster.system(0).scheduler()))
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
