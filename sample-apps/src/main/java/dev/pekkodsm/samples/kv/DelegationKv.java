package dev.pekkodsm.samples.kv;

import dev.pekkodsm.testkit.LocalCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * Delegation, Grappa's model and what a Pekko user writes today: the buckets are Cluster Sharding
 * entities holding a {@code HashMap}, and every GET, SET and DELETE is an {@code ask} to the
 * bucket's entity, wherever it lives. Messages are records serialized with Jackson CBOR, as the
 * Pekko documentation recommends; shards are placed by sharding's default strategy.
 *
 * <p>Messages between nodes are counted from the replies: each reply names the node whose entity
 * served it, and a request served on another node costs a request and a reply on the wire.
 */
final class DelegationKv implements KvSystem {

  /** Marker of the messages bound to Jackson CBOR. */
  interface Message {}

  /** What a bucket entity accepts. */
  sealed interface Command extends Message permits Get, Set, Delete {}

  record Get(long key, ActorRef<Value> replyTo) implements Command {}

  record Set(long key, byte[] value, ActorRef<Done> replyTo) implements Command {}

  record Delete(long key, ActorRef<Done> replyTo) implements Command {}

  record Value(byte[] value, int servedBy) implements Message {}

  record Done(boolean present, int servedBy) implements Message {}

  static final EntityTypeKey<Command> BUCKET = EntityTypeKey.create(Command.class, "kv-bucket");

  static final String CONFIG =
      "pekko.actor.serialization-bindings {\n"
          + "  \"dev.pekkodsm.samples.kv.DelegationKv$Message\" = jackson-cbor\n"
          + "}\n";

  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(10);

  private final LocalCluster cluster;
  private final List<KvClient> clients = new ArrayList<>();
  private final LongAdder remoteServed = new LongAdder();

  private DelegationKv(LocalCluster cluster, KvSpec spec) {
    this.cluster = cluster;
    for (int i = 0; i < cluster.size(); i++) {
      int node = i;
      ClusterSharding sharding = ClusterSharding.get(cluster.system(i));
      sharding.init(Entity.of(BUCKET, ctx -> bucket(node)));
      List<EntityRef<Command>> refs = new ArrayList<>(spec.buckets());
      for (int b = 0; b < spec.buckets(); b++) {
        refs.add(sharding.entityRefFor(BUCKET, Integer.toString(b)));
      }
      clients.add(new Client(node, spec, refs));
    }
  }

  static KvSystem start(int nodes, KvSpec spec, DsmTransport ignored) {
    LocalCluster cluster =
        LocalCluster.withNodes(nodes).name("kv-delegation").config(CONFIG).start();
    try {
      return new DelegationKv(cluster, spec);
    } catch (RuntimeException | Error e) {
      cluster.close();
      throw e;
    }
  }

  private static Behavior<Command> bucket(int node) {
    return Behaviors.setup(
        ctx -> {
          HashMap<Long, byte[]> map = new HashMap<>();
          return Behaviors.receive(Command.class)
              .onMessage(
                  Get.class,
                  get -> {
                    get.replyTo().tell(new Value(map.get(get.key()), node));
                    return Behaviors.same();
                  })
              .onMessage(
                  Set.class,
                  set -> {
                    map.put(set.key(), set.value());
                    set.replyTo().tell(new Done(true, node));
                    return Behaviors.same();
                  })
              .onMessage(
                  Delete.class,
                  delete -> {
                    boolean present = map.remove(delete.key()) != null;
                    delete.replyTo().tell(new Done(present, node));
                    return Behaviors.same();
                  })
              .build();
        });
  }

  private final class Client implements KvClient {
    private final int node;
    private final KvSpec spec;
    private final List<EntityRef<Command>> refs;

    Client(int node, KvSpec spec, List<EntityRef<Command>> refs) {
      this.node = node;
      this.spec = spec;
      this.refs = refs;
    }

    @Override
    public byte[] get(long key) {
      Value reply = await(ref(key).<Value>ask(replyTo -> new Get(key, replyTo), ASK_TIMEOUT));
      served(reply.servedBy());
      return reply.value();
    }

    @Override
    public void set(long key, byte[] value) {
      Done reply = await(ref(key).<Done>ask(replyTo -> new Set(key, value, replyTo), ASK_TIMEOUT));
      served(reply.servedBy());
    }

    @Override
    public boolean delete(long key) {
      Done reply = await(ref(key).<Done>ask(replyTo -> new Delete(key, replyTo), ASK_TIMEOUT));
      served(reply.servedBy());
      return reply.present();
    }

    private EntityRef<Command> ref(long key) {
      return refs.get(spec.bucketOf(key));
    }

    private void served(int by) {
      if (by != node) {
        remoteServed.increment();
      }
    }
  }

  private static <T> T await(java.util.concurrent.CompletionStage<T> stage) {
    try {
      // The ask fails by itself after ASK_TIMEOUT; the extra second only guards that promise.
      return stage.toCompletableFuture().get(ASK_TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(cause);
    } catch (TimeoutException e) {
      throw new IllegalStateException("ask did not complete within " + ASK_TIMEOUT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public int nodes() {
    return cluster.size();
  }

  @Override
  public KvClient client(int node) {
    return clients.get(node);
  }

  /** Every GET of another node's bucket is an ask over Artery's loopback TCP. */
  @Override
  public String transport() {
    return "tcp";
  }

  @Override
  public long messagesSent() {
    return 2 * remoteServed.sum();
  }

  @Override
  public void close() {
    cluster.close();
  }
}
