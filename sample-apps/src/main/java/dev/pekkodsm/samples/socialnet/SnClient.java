package dev.pekkodsm.samples.socialnet;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The SocialNet as one node's front end sees it (DeathStarBench's nginx): the three requests of the
 * benchmark. Thread-safe; nothing blocks; every stage fails after the run's deadline at the latest.
 */
public interface SnClient {

  /**
   * Composes a post by {@code userId} with {@code text} and a copy of {@code media} (the upload
   * this node receives). Completes when the post is stored and in its author's timeline and every
   * follower's and mentioned user's home timeline.
   *
   * @throws IllegalArgumentException at once if the user does not exist
   */
  CompletionStage<Composed> compose(int userId, String text, Media media);

  /** The posts of {@code userId}'s home timeline from {@code start} (0: newest) to {@code stop}. */
  CompletionStage<Timeline> readHomeTimeline(int userId, int start, int stop);

  /** The posts {@code userId} wrote, from {@code start} (0: newest) to {@code stop}. */
  CompletionStage<Timeline> readUserTimeline(int userId, int start, int stop);

  /** What compose-post answers: the post, and the posts retention deleted to make room. */
  record Composed(Post post, long[] deleted) {}

  /**
   * A timeline page: how many posts the timeline listed, and those posts with their media, newest
   * first. A listed post deleted while the page was being read may be missing from {@code posts}.
   */
  record Timeline(int listed, List<PostView> posts) {}
}
