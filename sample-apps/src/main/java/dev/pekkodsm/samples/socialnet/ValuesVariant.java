package dev.pekkodsm.samples.socialnet;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * {@code values}: what a Pekko user writes today. Every message carries the post and its media by
 * value: the upload goes to the media service in the request, comes back watermarked in the reply,
 * and goes to post-storage with the post; post-storage keeps them, and a reader asks post-storage
 * for each post of a timeline page and gets it, media included, in the reply (one message per post,
 * so a message is never larger than one post). Timelines hold post ids, as DeathStarBench's do.
 */
final class ValuesVariant implements VariantNode<Media, Media> {

  /** The media service's commands. */
  sealed interface MediaCommand extends SnMessage permits Watermark {}

  record Watermark(long postId, Media upload, ActorRef<Watermarked> replyTo)
      implements MediaCommand {}

  record Watermarked(Media media, long checksum) implements SnMessage {}

  /** Post-storage's commands. */
  sealed interface StorageCommand extends SnMessage permits Store, ReadPost, DeleteAll {}

  record Store(Post post, Media media, ActorRef<Stored> replyTo) implements StorageCommand {}

  record ReadPost(long postId, ActorRef<PostData> replyTo) implements StorageCommand {}

  record DeleteAll(ActorRef<Stored> replyTo) implements StorageCommand {}

  /** A stored post; the deleted posts are those retention deleted to make room. */
  record Stored(long[] deleted) implements SnMessage {}

  /** A post and its media, or nulls if there is no such post (any more). */
  record PostData(Post post, Media media) implements SnMessage {}

  private final SnNode node;

  ValuesVariant(SnNode node) {
    this.node = node;
  }

  static Behavior<MediaCommand> media() {
    return Behaviors.receive(MediaCommand.class)
        .onMessage(
            Watermark.class,
            m -> {
              // The upload belongs to this request: watermark it in place.
              dev.pekkodsm.samples.socialnet.Watermark.apply(m.upload(), m.postId());
              m.replyTo().tell(new Watermarked(m.upload(), m.upload().checksum()));
              return Behaviors.same();
            })
        .build();
  }

  static Behavior<StorageCommand> postStorage(SnNode node, int capacity) {
    return Behaviors.setup(
        ctx -> {
          Retention<PostData> posts = new Retention<>(capacity);
          return Behaviors.receive(StorageCommand.class)
              .onMessage(
                  Store.class,
                  m -> {
                    Post p = m.post();
                    PostData data = new PostData(p, m.media());
                    posts.store(
                        node, p.postId(), p.authorId(), data, d -> {}, Stored::new, m.replyTo());
                    return Behaviors.same();
                  })
              .onMessage(
                  ReadPost.class,
                  m -> {
                    PostData data = posts.get(m.postId());
                    m.replyTo().tell(data != null ? data : new PostData(null, null));
                    return Behaviors.same();
                  })
              .onMessage(
                  DeleteAll.class,
                  m -> {
                    posts.deleteAll(node, d -> {}, Stored::new, m.replyTo());
                    return Behaviors.same();
                  })
              .build();
        });
  }

  @Override
  public CompletionStage<Media> upload(Media media) {
    return CompletableFuture.completedFuture(media);
  }

  @Override
  public CompletionStage<VariantNode.Watermarked<Media>> watermark(
      int mediaNode, long postId, Media upload) {
    return node.<MediaCommand, Watermarked>ask(
            node.directory().media(mediaNode), replyTo -> new Watermark(postId, upload, replyTo))
        .thenApply(w -> new VariantNode.Watermarked<>(w.media(), w.checksum()));
  }

  @Override
  public CompletionStage<VariantNode.Stored> store(
      Post post, VariantNode.Watermarked<Media> media) {
    return node.<StorageCommand, Stored>ask(
            node.directory().postStorage(node.postNode(post.postId())),
            replyTo -> new Store(post, media.media(), replyTo))
        .thenApply(s -> new VariantNode.Stored(null, s.deleted()));
  }

  @Override
  public CompletionStage<List<PostView>> materialize(TimelineService.Page page) {
    List<CompletableFuture<PostData>> reads = new ArrayList<>();
    for (long postId : page.postIds()) {
      reads.add(
          node.<StorageCommand, PostData>ask(
                  node.directory().postStorage(node.postNode(postId)),
                  replyTo -> new ReadPost(postId, replyTo))
              .toCompletableFuture());
    }
    return CompletableFuture.allOf(reads.toArray(new CompletableFuture<?>[0]))
        .thenApply(
            done -> {
              List<PostView> views = new ArrayList<>(reads.size());
              for (CompletableFuture<PostData> r : reads) {
                PostData data = r.join();
                if (data.post() != null) {
                  views.add(new PostView(data.post(), data.media()));
                }
              }
              return views;
            });
  }

  /** Deletes every post (with their timeline entries); completes with their ids. */
  static CompletionStage<long[]> deleteAll(SnNode node, ActorRef<StorageCommand> storage) {
    return node.<StorageCommand, Stored>ask(storage, DeleteAll::new).thenApply(Stored::deleted);
  }
}
