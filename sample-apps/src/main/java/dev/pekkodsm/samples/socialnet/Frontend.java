package dev.pekkodsm.samples.socialnet;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * One node's front end: where the benchmark's requests enter (DeathStarBench's nginx). A compose
 * goes to this node's compose-post; a timeline read asks the timeline's shard for a page and has
 * the variant turn it into posts with their media.
 */
final class Frontend<U, M> implements SnClient {

  private final SnNode node;
  private final VariantNode<U, M> variant;
  private final ActorRef<ComposePostService.Command> compose;
  private final int users;

  Frontend(
      SnNode node,
      VariantNode<U, M> variant,
      ActorRef<ComposePostService.Command> compose,
      int users) {
    this.node = node;
    this.variant = variant;
    this.compose = compose;
    this.users = users;
  }

  @Override
  public CompletionStage<Composed> compose(int userId, String text, Media media) {
    checkUser(userId);
    MediaShape shape = new MediaShape(media.frames(), media.width(), media.height());
    return variant
        .upload(media.copy())
        .thenCompose(
            upload ->
                node.onDispatcher(
                    AskPattern.<ComposePostService.Command, Composed>askWithStatus(
                        compose,
                        replyTo ->
                            new ComposePostService.Compose(userId, text, shape, upload, replyTo),
                        node.askTimeout(),
                        node.system().scheduler())));
  }

  @Override
  public CompletionStage<Timeline> readHomeTimeline(int userId, int start, int stop) {
    return read(
        node.directory().homeTimelines().get(node.userNode(checkUser(userId))),
        userId,
        start,
        stop);
  }

  @Override
  public CompletionStage<Timeline> readUserTimeline(int userId, int start, int stop) {
    return read(
        node.directory().userTimelines().get(node.userNode(checkUser(userId))),
        userId,
        start,
        stop);
  }

  private CompletionStage<Timeline> read(
      ActorRef<TimelineService.Command> shard, int userId, int start, int stop) {
    if (start < 0 || stop < start) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException(
              "a timeline page needs 0 <= start <= stop, not start=" + start + " stop=" + stop));
    }
    return node.<TimelineService.Command, TimelineService.Page>ask(
            shard, replyTo -> new TimelineService.Read(userId, start, stop, replyTo))
        .thenCompose(
            page ->
                variant
                    .materialize(page)
                    .thenApply(posts -> new Timeline(page.postIds().length, posts)));
  }

  private int checkUser(int userId) {
    if (userId < 0 || userId >= users) {
      throw new IllegalArgumentException(
          "user " + userId + " does not exist; users are 0.." + (users - 1));
    }
    return userId;
  }
}
