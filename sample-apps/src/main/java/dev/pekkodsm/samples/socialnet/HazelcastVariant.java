package dev.pekkodsm.samples.socialnet;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.pekkodsm.samples.kv.HazelcastKv;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
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

  static Behavior<MediaCommand> media(SnNode node, HazelcastInstance member) {
    IMap<Long, Media> uploads = member.getMap(UPLOADS);
    IMap<Long, Media> media = member.getMap(MEDIA);
    return Behaviors.receive(MediaCommand.class)
        .onMessage(
            Watermark.class,
            m -> {
              CompletionStage<Watermarked> watermarked =
                  node.onDispatcher(uploads.getAsync(m.uploadKey()))
                      .thenCompose(
                          upload -> {
                            dev.pekkodsm.samples.socialnet.Watermark.apply(upload, m.postId());
                            long checksum = upload.checksum();
                            return node.onDispatcher(media.setAsync(m.postId(), upload))
                                .thenCompose(
                                    done -> node.onDispatcher(uploads.deleteAsync(m.uploadKey())))
                                .thenApply(done -> new Watermarked(checksum));
                          });
              SnNode.replyWhenDone(watermarked, m.replyTo());
              return Behaviors.same();
            })
        .build();
  }

  static Behavior<StorageCommand> postStorage(SnNode node, HazelcastInstance member, int capacity) {
    IMap<Long, Post> posts = member.getMap(POSTS);
    IMap<Long, Media> media = member.getMap(MEDIA);
    return Behaviors.setup(
        ctx -> {
          Retention<Boolean> retention = new Retention<>(capacity);
          return Behaviors.receive(StorageCommand.class)
              .onMessage(
                  Store.class,
                  m -> {
                    Map<Long, Retention.Held<Boolean>> deleted =
                        retention.admit(m.post().postId(), m.post().authorId(), true);
                    SnNode.replyWhenDone(
                        node.onDispatcher(posts.setAsync(m.post().postId(), m.post()))
                            .thenCompose(done -> remove(node, posts, media, deleted))
                            .thenApply(Stored::new),
                        m.replyTo());
                    return Behaviors.same();
                  })
              .onMessage(
                  DeleteAll.class,
                  m -> {
                    SnNode.replyWhenDone(
                        remove(node, posts, media, retention.takeAll()).thenApply(Stored::new),
                        m.replyTo());
                    return Behaviors.same();
                  })
              .build();
        });
  }

  /** Removes the posts from the timelines, then from the maps. */
  private static CompletionStage<long[]> remove(
      SnNode node,
      IMap<Long, Post> posts,
      IMap<Long, Media> media,
      Map<Long, Retention.Held<Boolean>> deleted) {
    return Retention.cascade(node, deleted)
        .thenCompose(
            ids -> {
              List<CompletableFuture<?>> removals = new ArrayList<>();
              for (long id : ids) {
                removals.add(node.onDispatcher(posts.deleteAsync(id)));
                removals.add(node.onDispatcher(media.deleteAsync(id)));
              }
              return CompletableFuture.allOf(removals.toArray(new CompletableFuture<?>[0]))
                  .thenApply(done -> ids);
            });
  }

  @Override
  public CompletionStage<Long> upload(Media media) {
    long key = (uploads.incrementAndGet() << UniqueIdService.NODE_BITS) | node.index();
    return node.onDispatcher(member.<Long, Media>getMap(UPLOADS).setAsync(key, media))
        .thenApply(done -> key);
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
          node.onDispatcher(posts.getAsync(id))
              .thenCombine(
                  node.onDispatcher(media.getAsync(id)),
                  (p, m) -> p == null || m == null ? null : new PostView(p, m))
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

  /**
   * Starts {@code nodes} members on 127.0.0.1 that form one cluster, as the KV comparison's (maps
   * with Hazelcast's defaults), or none if they do not within its start-up deadline.
   */
  static List<HazelcastInstance> startMembers(int nodes) {
    return HazelcastKv.startMembers(
        "pekko-dsm-socialnet-" + UUID.randomUUID(), nodes, config -> {});
  }

  /** Bytes all members have written to each other so far, or -1 if they cannot be counted. */
  static long bytesSent(List<HazelcastInstance> members) {
    return HazelcastKv.bytesSent(members);
  }
}
