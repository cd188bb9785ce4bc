package dev.pekkodsm.samples.socialnet;

import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.pattern.StatusReply;

/**
 * compose-post, on the node a request enters: DeathStarBench's ComposePost. Gets a post id from
 * unique-id; then, in parallel, the creator from user, the text from text and the watermarked media
 * from media; builds the post; has post-storage store it; then writes the author's user timeline
 * and has home-timeline fan the post out to the followers' and mentioned users' home timelines;
 * answers when all of that is done, so the post is visible everywhere it should be once the client
 * has the answer.
 *
 * <p>Only the media and the post travel differently in the three variants ({@link VariantNode}).
 * The compose command is local to its node (the front end's), so it is never serialized and may
 * carry the upload in whatever form the variant uses.
 */
final class ComposePostService {

  sealed interface Command permits Compose {}

  record Compose(
      int userId,
      String text,
      MediaShape shape,
      Object upload,
      ActorRef<StatusReply<SnClient.Composed>> replyTo)
      implements Command {}

  private ComposePostService() {}

  static <U, M> Behavior<Command> create(SnNode node, VariantNode<U, M> variant) {
    return Behaviors.receive(Command.class)
        .onMessage(
            Compose.class,
            m -> {
              @SuppressWarnings("unchecked")
              U upload = (U) m.upload();
              compose(node, variant, m.userId(), m.text(), m.shape(), upload)
                  .whenComplete(
                      (composed, failure) ->
                          m.replyTo()
                              .tell(
                                  failure == null
                                      ? StatusReply.success(composed)
                                      : StatusReply.error(failure)));
              return Behaviors.same();
            })
        .build();
  }

  private static <U, M> CompletionStage<SnClient.Composed> compose(
      SnNode node, VariantNode<U, M> variant, int userId, String text, MediaShape shape, U upload) {
    SnNode.Directory d = node.directory();
    return node.<UniqueIdService.Command, UniqueIdService.Id>ask(
            d.uniqueId(), UniqueIdService.NextId::new)
        .thenCompose(
            id -> {
              long postId = id.value();
              CompletionStage<UserService.Creator> creator =
                  node.ask(
                      d.users().get(node.userNode(userId)),
                      replyTo -> new UserService.ComposeCreator(userId, replyTo));
              CompletionStage<TextService.Text> composedText =
                  node.ask(
                      d.texts().get(node.computeNode(postId, 1)),
                      replyTo -> new TextService.ComposeText(text, replyTo));
              CompletionStage<VariantNode.Watermarked<M>> media =
                  variant.watermark(node.computeNode(postId, 2), postId, upload);
              return creator
                  .thenCombine(
                      composedText,
                      (c, t) ->
                          media.thenCompose(
                              w -> {
                                Post post = post(postId, c, t, shape, w.checksum());
                                return variant
                                    .store(post, w)
                                    .thenCompose(stored -> publish(node, post, stored));
                              }))
                  .thenCompose(stage -> stage);
            });
  }

  private static Post post(
      long postId,
      UserService.Creator creator,
      TextService.Text text,
      MediaShape shape,
      long mediaChecksum) {
    return new Post(
        postId,
        creator.userId(),
        creator.username(),
        text.text(),
        text.mentionIds(),
        text.mentionNames(),
        text.shortUrls(),
        text.expanded(),
        UniqueIdService.timestampUs(postId),
        shape.frames(),
        shape.width(),
        shape.height(),
        mediaChecksum);
  }

  /** Writes the author's user timeline and fans the post out to the home timelines. */
  private static CompletionStage<SnClient.Composed> publish(
      SnNode node, Post post, VariantNode.Stored stored) {
    SnNode.Directory d = node.directory();
    int shard = node.userNode(post.authorId());
    PostHandles handles = stored.handles();
    CompletionStage<TimelineService.Ack> user =
        node.ask(
            d.userTimelines().get(shard),
            replyTo ->
                new TimelineService.Insert(
                    post.postId(),
                    new int[] {post.authorId()},
                    handles == null ? null : handles.copy(),
                    replyTo));
    CompletionStage<TimelineService.Ack> home =
        node.ask(
            d.homeTimelines().get(shard),
            replyTo ->
                new TimelineService.FanOut(
                    post.postId(), post.authorId(), post.mentionIds(), handles, replyTo));
    return user.thenCombine(home, (u, h) -> new SnClient.Composed(post, stored.deleted()));
  }
}
