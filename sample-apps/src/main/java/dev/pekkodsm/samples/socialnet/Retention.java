package dev.pekkodsm.samples.socialnet;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Post-storage's retention, the same in every variant: a shard keeps its newest {@code capacity}
 * posts and deletes older ones as new ones arrive, so a run of any length holds a bounded amount of
 * media (DeathStarBench keeps everything in MongoDB; 5 frames per post would not fit in memory
 * here). A deleted post leaves its author's user timeline and every home timeline ({@link
 * #cascade}) before the store that made room is answered. Confined to the storage shard's actor.
 */
final class Retention {

  private final int capacity;
  private final TreeMap<Long, Integer> authorByPost = new TreeMap<>();

  Retention(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity=" + capacity + " must be >= 1");
    }
    this.capacity = capacity;
  }

  /** Records a stored post; returns the posts (id to author) to delete now, oldest first. */
  Map<Long, Integer> admit(long postId, int authorId) {
    authorByPost.put(postId, authorId);
    Map<Long, Integer> out = new TreeMap<>();
    while (authorByPost.size() > capacity) {
      Map.Entry<Long, Integer> oldest = authorByPost.pollFirstEntry();
      out.put(oldest.getKey(), oldest.getValue());
    }
    return out;
  }

  /** Forgets every post and returns them (id to author), for a deletion of everything. */
  Map<Long, Integer> takeAll() {
    Map<Long, Integer> all = new TreeMap<>(authorByPost);
    authorByPost.clear();
    return all;
  }

  /** Posts held. */
  int size() {
    return authorByPost.size();
  }

  /**
   * Removes {@code posts} from the user timeline of each one's author and from every home-timeline
   * shard; completes when all have answered.
   */
  static CompletionStage<long[]> cascade(SnNode node, Map<Long, Integer> posts) {
    if (posts.isEmpty()) {
      return CompletableFuture.completedFuture(new long[0]);
    }
    SnNode.Directory d = node.directory();
    List<CompletableFuture<TimelineService.Ack>> acks = new ArrayList<>();
    for (Map.Entry<Long, Integer> p : posts.entrySet()) {
      long postId = p.getKey();
      acks.add(
          node.<TimelineService.Command, TimelineService.Ack>ask(
                  d.userTimelines().get(node.userNode(p.getValue())),
                  replyTo -> new TimelineService.Delete(postId, replyTo))
              .toCompletableFuture());
      for (int n = 0; n < node.nodes(); n++) {
        acks.add(
            node.<TimelineService.Command, TimelineService.Ack>ask(
                    d.homeTimelines().get(n),
                    replyTo -> new TimelineService.Delete(postId, replyTo))
                .toCompletableFuture());
      }
    }
    long[] ids = posts.keySet().stream().mapToLong(Long::longValue).toArray();
    return CompletableFuture.allOf(acks.toArray(new CompletableFuture<?>[0]))
        .thenApply(done -> ids);
  }
}
