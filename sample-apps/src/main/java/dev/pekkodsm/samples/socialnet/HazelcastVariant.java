package dev.pekkodsm.samples.socialnet;

import com.hazelcast.cluster.Address;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.spi.properties.ClusterProperty;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * {@code hazelcast}: the shared-store pattern. Posts, media and uploads live in Hazelcast {@code
 * IMap}s (one embedded member per node, the same members for all services), and the services pass
 * keys: the front end puts the upload into {@value #UPLOADS} and hands its key on; the media
 * service gets it, watermarks it, puts the result into {@value #MEDIA} under the post id and
 * removes the upload; post-storage puts the post into {@value #POSTS}; a reader gets a page's post
 * ids from the timeline and then the posts and media from the maps. As DeathStarBench's media
 * service stores uploads in MongoDB and passes media ids.
 *
 * <p>Maps as Hazelcast's documentation sets them up: default partitions, one synchronous backup,
 * {@code BINARY} format; records serialized with zero-config compact serialization. Members bind
 * only 127.0.0.1. Calls inside actors are the maps' asynchronous ones; watermarking runs on the
 * actor system's dispatcher, as in the other variants.
 */
final class HazelcastVariant implements VariantNode<Long, Long> {

  static final String POSTS = "sn-posts";
  static final String MEDIA = "sn-media";
  static final String UPLOADS = "sn-uploads";

  /** The media service's commands. */
  sealed interface MediaCommand extends SnMessage permits Watermark {}

  record Watermark(long postId, long uploadKey, ActorRef<Watermarked> replyTo)
      implements MediaCommand {}

  record Watermarked(long checksum) implements SnMessage {}

  /** Post-storage's commands. */
  sealed interface StorageCommand extends SnMessage permits Store, DeleteAll {}

  record Store(Post post, ActorRef<Stored> replyTo) implements StorageCommand {}

  record DeleteAll(ActorRef<Stored> replyTo) implements StorageCommand {}

  record Stored(long[] deleted) implements SnMessage {}

  private final SnNode node;
  private final HazelcastInstance member;
  private final AtomicLong uploads = new AtomicLong();

  HazelcastVariant(SnNode node, HazelcastInstance member) {
    this.node = node;
    this.member = member;
  }

  static Behavior<MediaCommand> media(HazelcastInstance member, Executor cpu) {
    IMap<Long, Media> uploads = member.getMap(UPLOADS);
    IMap<Long, Media> media = member.getMap(MEDIA);
    return Behaviors.receive(MediaCommand.class)
        .onMessage(
            Watermark.class,
            m -> {
              uploads
                  .getAsync(m.uploadKey())
                  .thenApplyAsync(
                      upload -> {
                        dev.pekkodsm.samples.socialnet.Watermark.apply(upload, m.postId());
                        return upload;
                      },
                      cpu)
                  .thenCompose(
                      upload ->
                          media
                              .setAsync(m.postId(), upload)
                              .thenCompose(done -> uploads.deleteAsync(m.uploadKey()))
                              .thenApply(done -> new Watermarked(upload.checksum())))
                  .whenComplete(
                      (w, failure) -> {
                        if (failure == null) {
                          m.replyTo().tell(w);
                        }
                      });
              return Behaviors.same();
            })
        .build();
  }

  static Behavior<StorageCommand> postStorage(SnNode node, HazelcastInstance member, int capacity) {
    IMap<Long, Post> posts = member.getMap(POSTS);
    IMap<Long, Media> media = member.getMap(MEDIA);
    return Behaviors.setup(
        ctx -> {
          Retention retention = new Retention(capacity);
          return Behaviors.receive(StorageCommand.class)
              .onMessage(
                  Store.class,
                  m -> {
                    Map<Long, Integer> deleted =
                        retention.admit(m.post().postId(), m.post().authorId());
                    posts
                        .setAsync(m.post().postId(), m.post())
                        .thenCompose(done -> remove(node, posts, media, deleted))
                        .whenComplete(
                            (ids, failure) -> {
                              if (failure == null) {
                                m.replyTo().tell(new Stored(ids));
                              }
                            });
                    return Behaviors.same();
                  })
              .onMessage(
                  DeleteAll.class,
                  m -> {
                    remove(node, posts, media, retention.takeAll())
                        .whenComplete(
                            (ids, failure) -> {
                              if (failure == null) {
                                m.replyTo().tell(new Stored(ids));
                              }
                            });
                    return Behaviors.same();
                  })
              .build();
        });
  }

  /** Removes the posts from the timelines, then from the maps. */
  private static CompletionStage<long[]> remove(
      SnNode node, IMap<Long, Post> posts, IMap<Long, Media> media, Map<Long, Integer> deleted) {
    return Retention.cascade(node, deleted)
        .thenCompose(
            ids -> {
              List<CompletableFuture<?>> removals = new ArrayList<>();
              for (long id : ids) {
                removals.add(posts.deleteAsync(id).toCompletableFuture());
                removals.add(media.deleteAsync(id).toCompletableFuture());
              }
              return CompletableFuture.allOf(removals.toArray(new CompletableFuture<?>[0]))
                  .thenApply(done -> ids);
            });
  }

  @Override
  public CompletionStage<Long> upload(Media media) {
    long key = (uploads.incrementAndGet() << UniqueIdService.NODE_BITS) | node.index();
    return member.<Long, Media>getMap(UPLOADS).setAsync(key, media).thenApply(done -> key);
  }

  @Override
  public CompletionStage<VariantNode.Watermarked<Long>> watermark(
      int mediaNode, long postId, Long upload) {
    return node.<MediaCommand, Watermarked>ask(
            node.directory().media(mediaNode), replyTo -> new Watermark(postId, upload, replyTo))
        .thenApply(w -> new VariantNode.Watermarked<>(postId, w.checksum()));
  }

  @Override
  public CompletionStage<VariantNode.Stored> store(Post post, VariantNode.Watermarked<Long> media) {
    return node.<StorageCommand, Stored>ask(
            node.directory().postStorage(node.postNode(post.postId())),
            replyTo -> new Store(post, replyTo))
        .thenApply(s -> new VariantNode.Stored(null, s.deleted()));
  }

  @Override
  public CompletionStage<List<PostView>> materialize(TimelineService.Page page) {
    IMap<Long, Post> posts = member.getMap(POSTS);
    IMap<Long, Media> media = member.getMap(MEDIA);
    List<CompletableFuture<PostView>> reads = new ArrayList<>();
    for (long id : page.postIds()) {
      reads.add(
          posts
              .getAsync(id)
              .thenCombine(
                  media.getAsync(id), (p, m) -> p == null || m == null ? null : new PostView(p, m))
              .toCompletableFuture());
    }
    return CompletableFuture.allOf(reads.toArray(new CompletableFuture<?>[0]))
        .thenApply(
            done -> {
              List<PostView> views = new ArrayList<>(reads.size());
              for (CompletableFuture<PostView> r : reads) {
                if (r.join() != null) {
                  views.add(r.join());
                }
              }
              return views;
            });
  }

  // ------------------------------------------------------------------ the members

  /** How long the members may take to form a cluster. */
  static final long STARTUP_TIMEOUT_MS = 90_000;

  /**
   * Starts {@code nodes} members on 127.0.0.1 that form one cluster, or none (those started are
   * terminated) if they do not within {@link #STARTUP_TIMEOUT_MS}.
   */
  static List<HazelcastInstance> startMembers(int nodes) {
    String clusterName = "pekko-dsm-socialnet-" + UUID.randomUUID();
    List<HazelcastInstance> members = new ArrayList<>();
    List<String> addresses = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STARTUP_TIMEOUT_MS);
    try {
      for (int i = 0; i < nodes; i++) {
        HazelcastInstance member =
            Hazelcast.newHazelcastInstance(config(clusterName, i, addresses));
        members.add(member);
        Address a = member.getCluster().getLocalMember().getAddress();
        addresses.add(a.getHost() + ":" + a.getPort());
      }
      for (HazelcastInstance member : members) {
        while (member.getCluster().getMembers().size() != nodes
            || !member.getPartitionService().isClusterSafe()) {
          if (System.nanoTime() - deadline > 0) {
            throw new IllegalStateException(
                "Hazelcast members did not form a cluster of " + nodes + " within 90 s");
          }
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
      }
      return members;
    } catch (RuntimeException | Error e) {
      members.forEach(m -> m.getLifecycleService().terminate());
      throw e;
    }
  }

  private static Config config(String clusterName, int index, List<String> seeds) {
    Config config = new Config();
    config.setClusterName(clusterName);
    config.setInstanceName(clusterName + "-" + index);
    config.setProperty(ClusterProperty.LOGGING_TYPE.getName(), "slf4j");
    config.setProperty(ClusterProperty.PHONE_HOME_ENABLED.getName(), "false");
    config.setProperty(ClusterProperty.SHUTDOWNHOOK_ENABLED.getName(), "false");
    config.setProperty(ClusterProperty.SOCKET_BIND_ANY.getName(), "false");
    config.setProperty(ClusterProperty.OPERATION_CALL_TIMEOUT_MILLIS.getName(), "10000");
    config.setProperty(ClusterProperty.INVOCATION_MAX_RETRY_COUNT.getName(), "10");
    config.getJetConfig().setEnabled(false);
    config
        .getMetricsConfig()
        .setEnabled(true)
        .setCollectionFrequencySeconds(1)
        .getJmxConfig()
        .setEnabled(true);
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(0).setPortAutoIncrement(false);
    network.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(new ArrayList<>(seeds));
    return config;
  }

  /**
   * Bytes all members have written to each other, from Hazelcast's metrics over JMX ({@code
   * tcp.outputThread} {@code bytesTransceived}), which are collected every second and reach JMX up
   * to two seconds late: the difference of two readings covers a window as long as the one between
   * them, shifted by that lag. Returns -1 if the metrics are not there.
   */
  static long bytesSent(List<HazelcastInstance> members) {
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    long bytes = 0;
    for (HazelcastInstance member : members) {
      try {
        Set<ObjectName> threads =
            server.queryNames(
                new ObjectName(
                    "com.hazelcast:type=Metrics,instance="
                        + member.getName()
                        + ",prefix=tcp.outputThread,*"),
                null);
        if (threads.isEmpty()) {
          return -1;
        }
        for (ObjectName thread : threads) {
          bytes += ((Number) server.getAttribute(thread, "bytesTransceived")).longValue();
        }
      } catch (JMException e) {
        return -1;
      }
    }
    return bytes;
  }
}
