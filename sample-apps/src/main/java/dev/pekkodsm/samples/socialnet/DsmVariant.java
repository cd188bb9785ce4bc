package dev.pekkodsm.samples.socialnet;

import dev.pekkodsm.DArc;
import dev.pekkodsm.DBox;
import dev.pekkodsm.Dsm;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * {@code dsm}: the services pass references, as DRust's SocialNet does, written with pekko-dsm's
 * public API only. No post or media is serialized into a message between services:
 *
 * <ul>
 *   <li>The front end allocates the upload in a {@link DBox} on its node (nothing is copied or
 *       serialized) and compose-post sends the box to the media service, which moves ownership.
 *   <li>The media service watermarks it through a mutable borrow ({@link DBox#writeAsync}): the
 *       object moves to the media service's node (one request, one reply, and a one-sided read of
 *       the pixels from the old home's arena), is changed in place there, and is then frozen into a
 *       {@link DArc}: immutable, shared, read by everyone from that node from now on.
 *   <li>compose-post allocates the post as a {@link DArc} on its node: a post never changes.
 *       Post-storage, the author's user timeline and every home-timeline shard that shows the post
 *       hold a {@link PostHandles} pair each (copies cost no message).
 *   <li>A timeline read answers with a copy of each post's pair; the reader gets the post and its
 *       media through its node's read cache: the first time on a node a one-sided read of the
 *       snapshot from the home's arena, then no read and no message at all. It drops the pair once
 *       it has them.
 *   <li>Deleting a post drops the pairs of storage and the timelines; the last drop frees the post
 *       and the media at their homes.
 * </ul>
 */
final class DsmVariant implements VariantNode<DBox<Media>, DArc<Media>> {

  /** The media service's commands. */
  sealed interface MediaCommand extends SnMessage permits Watermark {}

  record Watermark(long postId, DBox<Media> upload, ActorRef<Watermarked> replyTo)
      implements MediaCommand {}

  record Watermarked(DArc<Media> media, long checksum) implements SnMessage {}

  /** Post-storage's commands. */
  sealed interface StorageCommand extends SnMessage permits Store, DeleteAll {}

  record Store(long postId, int authorId, PostHandles handles, ActorRef<Stored> replyTo)
      implements StorageCommand {}

  record DeleteAll(ActorRef<Stored> replyTo) implements StorageCommand {}

  record Stored(long[] deleted) implements SnMessage {}

  private final SnNode node;
  private final Dsm dsm;

  DsmVariant(SnNode node) {
    this.node = node;
    this.dsm = Dsm.get(node.system());
  }

  static Behavior<MediaCommand> media() {
    return Behaviors.receive(MediaCommand.class)
        .onMessage(
            Watermark.class,
            m -> {
              DBox<Media> upload = m.upload();
              upload
                  .writeAsync(
                      media -> {
                        dev.pekkodsm.samples.socialnet.Watermark.apply(media, m.postId());
                        return media.checksum();
                      })
                  .thenCompose(
                      checksum ->
                          upload.freezeAsync().thenApply(arc -> new Watermarked(arc, checksum)))
                  .whenComplete(
                      (w, failure) -> {
                        if (failure == null) {
                          m.replyTo().tell(w);
                        } else {
                          upload.close();
                        }
                      });
              return Behaviors.same();
            })
        .build();
  }

  static Behavior<StorageCommand> postStorage(SnNode node, int capacity) {
    return Behaviors.setup(
        ctx -> {
          Retention<PostHandles> posts = new Retention<>(capacity);
          return Behaviors.receive(StorageCommand.class)
              .onMessage(
                  Store.class,
                  m -> {
                    posts.store(
                        node,
                        m.postId(),
                        m.authorId(),
                        m.handles(),
                        PostHandles::drop,
                        Stored::new,
                        m.replyTo());
                    return Behaviors.same();
                  })
              .onMessage(
                  DeleteAll.class,
                  m -> {
                    posts.deleteAll(node, PostHandles::drop, Stored::new, m.replyTo());
                    return Behaviors.same();
                  })
              .build();
        });
  }

  @Override
  public CompletionStage<DBox<Media>> upload(Media media) {
    return CompletableFuture.completedFuture(dsm.alloc(media));
  }

  @Override
  public CompletionStage<VariantNode.Watermarked<DArc<Media>>> watermark(
      int mediaNode, long postId, DBox<Media> upload) {
    return node.<MediaCommand, Watermarked>ask(
            node.directory().media(mediaNode), replyTo -> new Watermark(postId, upload, replyTo))
        .thenApply(w -> new VariantNode.Watermarked<>(w.media(), w.checksum()));
  }

  @Override
  public CompletionStage<VariantNode.Stored> store(
      Post post, VariantNode.Watermarked<DArc<Media>> media) {
    PostHandles handles = new PostHandles(dsm.arc(post), media.media());
    PostHandles forStorage = handles.copy();
    return node.<StorageCommand, Stored>ask(
            node.directory().postStorage(node.postNode(post.postId())),
            replyTo -> new Store(post.postId(), post.authorId(), forStorage, replyTo))
        .thenApply(s -> new VariantNode.Stored(handles, s.deleted()));
  }

  @Override
  public CompletionStage<List<PostView>> materialize(TimelineService.Page page) {
    List<PostHandles> pairs = page.handles() == null ? List.of() : page.handles();
    List<CompletableFuture<PostView>> reads = new ArrayList<>(pairs.size());
    for (PostHandles pair : pairs) {
      reads.add(
          pair.post()
              .getAsync()
              .thenCombine(pair.media().getAsync(), PostView::new)
              .toCompletableFuture());
    }
    return CompletableFuture.allOf(reads.toArray(new CompletableFuture<?>[0]))
        .handle(
            (done, failure) -> {
              pairs.forEach(PostHandles::drop);
              if (failure != null) {
                throw new java.util.concurrent.CompletionException(failure);
              }
              List<PostView> views = new ArrayList<>(reads.size());
              reads.forEach(r -> views.add(r.join()));
              return views;
            });
  }
}
