package dev.pekkodsm.samples.socialnet;

import com.hazelcast.core.HazelcastInstance;
import dev.pekkodsm.Dsm;
import dev.pekkodsm.DsmCounters;
import dev.pekkodsm.testkit.LocalCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The SocialNet services of one variant running on an embedded cluster of {@code n} nodes (Pekko
 * systems in this JVM talking Artery TCP over 127.0.0.1, each with its DSM; in the {@code
 * hazelcast} variant also a Hazelcast member per node). Every node runs every service: a shard of
 * each sharded one, a replica of each stateless one. {@link #client(int)} is node {@code i}'s front
 * end.
 */
public final class SocialNet implements AutoCloseable {

  /** The variants, in the order they are usually compared. */
  public static final List<String> VARIANTS = List.of("dsm", "values", "hazelcast");

  private final String variant;
  private final LocalCluster cluster;
  private final List<HazelcastInstance> members;
  private final List<SnNode> nodes = new ArrayList<>();
  private final List<ActorRef<Object>> storages = new ArrayList<>();
  private final List<SnClient> clients = new ArrayList<>();

  private SocialNet(String variant, LocalCluster cluster, List<HazelcastInstance> members) {
    this.variant = variant;
    this.cluster = cluster;
    this.members = members;
  }

  /**
   * The settings of a cluster.
   *
   * @param nodes nodes (Pekko systems; Hazelcast members too in that variant)
   * @param graph the social graph, loaded into user and social-graph
   * @param media the media of every post, which sizes Artery's frames
   * @param retainedPosts posts each post-storage shard keeps (older ones are deleted)
   * @param askTimeout the deadline of every call between services
   */
  public record Settings(
      int nodes, SocialGraph graph, MediaShape media, int retainedPosts, Duration askTimeout) {
    /** Checks the values. */
    public Settings {
      if (nodes < 1 || nodes > 16) {
        throw new IllegalArgumentException("nodes=" + nodes + " must be in [1, 16]");
      }
      if (retainedPosts < 1) {
        throw new IllegalArgumentException("retainedPosts=" + retainedPosts + " must be >= 1");
      }
    }
  }

  /**
   * Starts the cluster and the services of {@code variant}.
   *
   * @throws IllegalArgumentException if the variant is unknown
   * @throws IllegalStateException if the cluster does not come up; nothing is left running
   */
  public static SocialNet start(String variant, Settings settings) {
    if (!VARIANTS.contains(variant)) {
      throw new IllegalArgumentException(
          "unknown variant " + variant + "; known: " + String.join(", ", VARIANTS));
    }
    LocalCluster cluster =
        LocalCluster.withNodes(settings.nodes())
            .name("socialnet-" + variant)
            .config(config(settings.media()))
            // Twice the default: the benchmark starts its nodes while the machine may be busy.
            .startTimeout(Duration.ofSeconds(120))
            .start();
    List<HazelcastInstance> members = List.of();
    SocialNet net = null;
    try {
      if (variant.equals("hazelcast")) {
        members = HazelcastVariant.startMembers(settings.nodes());
      }
      net = new SocialNet(variant, cluster, members);
      net.spawn(settings);
      return net;
    } catch (RuntimeException | Error e) {
      if (net != null) {
        net.close();
      } else {
        members.forEach(m -> m.getLifecycleService().terminate());
        cluster.close();
      }
      throw e;
    }
  }

  /**
   * The configuration every variant's cluster gets: messages bound to Jackson CBOR, Artery frames
   * large enough for one post with its media (the {@code values} variant sends such messages; the
   * others send the same configuration nothing that large), the byte counter, and failure detection
   * close to Pekko's defaults (a heartbeat a second, suspicion after five without one, the split
   * brain resolver's 20 s) instead of the embedded cluster's test settings, which suspect a node
   * after a second and which a busy two-core machine trips mid-run.
   */
  static String config(MediaShape media) {
    long frameBytes = Math.max(256L << 10, roundUpToMiB(media.bytes() + (256L << 10)));
    return String.join(
        "\n",
        "pekko.actor.serialization-bindings {",
        "  \"" + SnMessage.class.getName() + "\" = jackson-cbor",
        "}",
        String.format(
            Locale.ROOT, "pekko.remote.artery.advanced.maximum-frame-size = %d", frameBytes),
        "pekko.cluster.failure-detector.heartbeat-interval = 1s",
        "pekko.cluster.failure-detector.acceptable-heartbeat-pause = 5s",
        "pekko.cluster.split-brain-resolver.stable-after = 20s",
        WireBytes.CONFIG);
  }

  private static long roundUpToMiB(long bytes) {
    return (bytes + (1L << 20) - 1) & -(1L << 20);
  }

  private void spawn(Settings settings) {
    int n = settings.nodes();
    List<List<ActorRef<?>>> spawned = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ActorSystem<Void> system = cluster.system(i);
      SnNode node = new SnNode(i, n, system, settings.askTimeout());
      nodes.add(node);
      VariantNode<?, ?> variantNode;
      Behavior<?> media;
      Behavior<?> storage;
      switch (variant) {
        case "dsm" -> {
          variantNode = new DsmVariant(node);
          media = DsmVariant.media();
          storage = DsmVariant.postStorage(node, settings.retainedPosts());
        }
        case "values" -> {
          variantNode = new ValuesVariant(node);
          media = ValuesVariant.media();
          storage = ValuesVariant.postStorage(node, settings.retainedPosts());
        }
        default -> {
          HazelcastInstance member = members.get(i);
          variantNode = new HazelcastVariant(node, member);
          media = HazelcastVariant.media(node, member);
          storage = HazelcastVariant.postStorage(node, member, settings.retainedPosts());
        }
      }
      List<ActorRef<?>> refs = new ArrayList<>();
      refs.add(spawn(system, "user", UserService.create(node, settings.graph().users())));
      refs.add(spawn(system, "social-graph", SocialGraphService.create(node, settings.graph())));
      refs.add(spawn(system, "url-shorten", UrlShortenService.create()));
      refs.add(spawn(system, "user-mention", UserMentionService.create(node)));
      refs.add(spawn(system, "text", TextService.create(node)));
      refs.add(spawn(system, "user-timeline", TimelineService.userTimeline(node)));
      refs.add(spawn(system, "home-timeline", TimelineService.homeTimeline(node)));
      refs.add(spawn(system, "media", media));
      refs.add(spawn(system, "post-storage", storage));
      refs.add(spawn(system, "unique-id", UniqueIdService.create(i)));
      spawned.add(refs);
      ActorRef<ComposePostService.Command> compose =
          spawn(system, "compose-post", ComposePostService.create(node, variantNode));
      clients.add(new Frontend<>(node, variantNode, compose, settings.graph().users()));
    }
    for (int i = 0; i < n; i++) {
      ActorSystem<Void> system = cluster.system(i);
      int self = i;
      Function<Integer, List<ActorRef<Object>>> column =
          c -> {
            List<ActorRef<Object>> out = new ArrayList<>();
            for (int j = 0; j < n; j++) {
              out.add(resolve(system, cluster.system(j), spawned.get(j).get(c), self == j));
            }
            return out;
          };
      nodes
          .get(i)
          .install(
              new SnNode.Directory(
                  cast(column.apply(0)),
                  cast(column.apply(1)),
                  cast(column.apply(2)),
                  cast(column.apply(3)),
                  cast(column.apply(4)),
                  cast(column.apply(5)),
                  cast(column.apply(6)),
                  column.apply(7),
                  column.apply(8),
                  cast(spawned.get(i).get(9))));
      storages.add(column.apply(8).get(i));
    }
  }

  private static <T> ActorRef<T> spawn(
      ActorSystem<Void> system, String name, Behavior<T> behavior) {
    // A message a service cannot handle is a bug; the service goes on serving the others.
    return system.systemActorOf(
        Behaviors.supervise(behavior).onFailure(SupervisorStrategy.resume()),
        "sn-" + name,
        Props.empty());
  }

  @SuppressWarnings("unchecked")
  private static ActorRef<Object> resolve(
      ActorSystem<Void> from, ActorSystem<Void> owner, ActorRef<?> ref, boolean local) {
    if (local) {
      return (ActorRef<Object>) ref;
    }
    String path = ActorRefResolver.get(owner).toSerializationFormat(ref);
    return ActorRefResolver.get(from).resolveActorRef(path);
  }

  @SuppressWarnings("unchecked")
  private static <T> T cast(Object o) {
    return (T) o;
  }

  /** The variant. */
  public String variant() {
    return variant;
  }

  /** Number of nodes. */
  public int nodes() {
    return nodes.size();
  }

  /** Node {@code i}'s front end. */
  public SnClient client(int i) {
    return clients.get(i);
  }

  /** The embedded cluster, for tests. */
  LocalCluster cluster() {
    return cluster;
  }

  /**
   * Deletes every post, from post-storage and every timeline, and waits for it.
   *
   * @return the number of posts deleted
   */
  public int deleteAll() {
    List<CompletableFuture<long[]>> all = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      SnNode node = nodes.get(i);
      ActorRef<Object> storage = storages.get(i);
      all.add(deleteAll(node, storage).toCompletableFuture());
    }
    int deleted = 0;
    for (CompletableFuture<long[]> f : all) {
      try {
        deleted += f.get(nodes.get(0).askTimeout().toMillis() + 5000, TimeUnit.MILLISECONDS).length;
      } catch (Exception e) {
        throw new IllegalStateException("deleting every post failed: " + e, e);
      }
    }
    return deleted;
  }

  private java.util.concurrent.CompletionStage<long[]> deleteAll(
      SnNode node, ActorRef<Object> storage) {
    return switch (variant) {
      case "dsm" ->
          node.<Object, DsmVariant.Stored>ask(storage, DsmVariant.DeleteAll::new)
              .thenApply(DsmVariant.Stored::deleted);
      case "values" ->
          node.<Object, ValuesVariant.Stored>ask(storage, ValuesVariant.DeleteAll::new)
              .thenApply(ValuesVariant.Stored::deleted);
      default ->
          node.<Object, HazelcastVariant.Stored>ask(storage, HazelcastVariant.DeleteAll::new)
              .thenApply(HazelcastVariant.Stored::deleted);
    };
  }

  /** What the nodes have put on the wire so far. */
  public Traffic traffic() {
    long artery = 0;
    long arteryMessages = 0;
    long dsmMessages = 0;
    long oneSided = 0;
    long retries = 0;
    for (int i = 0; i < nodes.size(); i++) {
      retries += nodes.get(i).readRetries();
      ActorSystem<Void> system = cluster.system(i);
      artery += WireBytes.get(system).bytes();
      arteryMessages += WireBytes.get(system).messages();
      DsmCounters c = Dsm.get(system).counters();
      dsmMessages += c.messagesSent();
      oneSided += c.bytesRead();
    }
    long hazelcast = members.isEmpty() ? 0 : HazelcastVariant.bytesSent(members);
    return new Traffic(artery, arteryMessages, hazelcast, dsmMessages, oneSided, retries);
  }

  /**
   * Cumulative traffic of the whole cluster.
   *
   * @param arteryBytes bytes of the Artery envelopes the nodes sent (service and DSM messages)
   * @param arteryMessages envelopes the nodes sent
   * @param hazelcastBytes bytes the Hazelcast members sent each other, read from their connections'
   *     counters at the call ({@code -1} if unknown)
   * @param dsmMessages DSM protocol messages (part of the Artery ones)
   * @param oneSidedBytes bytes read one-sided from other nodes' arenas (over shm here)
   * @param readRetries timeline reads tried again because a handle could not be copied yet
   */
  public record Traffic(
      long arteryBytes,
      long arteryMessages,
      long hazelcastBytes,
      long dsmMessages,
      long oneSidedBytes,
      long readRetries) {

    /** The traffic between {@code earlier} and this. */
    public Traffic minus(Traffic earlier) {
      return new Traffic(
          arteryBytes - earlier.arteryBytes,
          arteryMessages - earlier.arteryMessages,
          hazelcastBytes < 0 || earlier.hazelcastBytes < 0
              ? -1
              : hazelcastBytes - earlier.hazelcastBytes,
          dsmMessages - earlier.dsmMessages,
          oneSidedBytes - earlier.oneSidedBytes,
          readRetries - earlier.readRetries);
    }

    /** Bytes on the wire: Artery's and Hazelcast's. */
    public long wireBytes() {
      return arteryBytes + Math.max(0, hazelcastBytes);
    }
  }

  /** Objects homed on each node and arena slots in use, summed: what must return to the start. */
  public long[] dsmObjects() {
    long objects = 0;
    long slots = 0;
    for (int i = 0; i < nodes.size(); i++) {
      DsmCounters c = Dsm.get(cluster.system(i)).counters();
      objects += c.liveObjects();
      slots += c.arenaSlots();
    }
    return new long[] {objects, slots};
  }

  /** Entries left in the Hazelcast variant's maps (0 in the others). */
  public long hazelcastEntries() {
    if (members.isEmpty()) {
      return 0;
    }
    HazelcastInstance m = members.get(0);
    return m.getMap(HazelcastVariant.POSTS).size()
        + m.getMap(HazelcastVariant.MEDIA).size()
        + m.getMap(HazelcastVariant.UPLOADS).size();
  }

  /** Stops the Hazelcast members and the cluster. */
  @Override
  public void close() {
    try {
      for (HazelcastInstance m : members) {
        if (m.getLifecycleService().isRunning()) {
          m.getLifecycleService().terminate();
        }
      }
    } finally {
      cluster.close();
    }
  }
}
