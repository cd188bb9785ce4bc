package dev.pekkodsm.samples.socialnet;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The posts of one post-storage shard and its retention, the same in every variant: a shard keeps
 * its newest {@code capacity} posts and deletes older ones as new ones arrive, so a run of any
 * length holds a bounded amount of media (DeathStarBench keeps everything in MongoDB; 5 frames per
 * post would not fit in memory here). A deleted post leaves its author's user timeline and every
 * home timeline ({@link #cascade}) before the store that made room is answered. Confined to the
 * storage shard's actor.
 *
 * @param <V> what the shard keeps of a post: the post and its media ({@code values}), their handles
 *     ({@code dsm}), nothing (in {@code hazelcast} the maps hold them)
 */
final class Retention<V> {

  /** A post kept: its author (whose user timeline shows it) and what the shard keeps of it. */
  record Held<V>(int authorId, V value) {}

  private final int capacity;
  private final TreeMap<Long, Held<V>> posts = new TreeMap<>();

  Retention(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity=" + capacity + " must be >= 1");
    }
    this.capacity = capacity;
  }

  /** What the shard keeps of {@code postId}, or null. */
  V get(long postId) {
    Held<V> held = posts.get(postId);
    return held == null ? null : held.value();
  }

  /** Posts held. */
  int size() {
    return posts.size();
  }

  /** Keeps a post; returns the posts to delete now, oldest first. */
  Map<Long, Held<V>> admit(long postId, int authorId, V value) {
    posts.put(postId, new Held<>(authorId, value));
    Map<Long, Held<V>> out = new TreeMap<>();
    while (posts.size() > capacity) {
      Map.Entry<Long, Held<V>> oldest = posts.pollFirstEntry();
      out.put(oldest.getKey(), oldest.getValue());
    }
    return out;
  }

  /** Forgets every post and returns them, for a deletion of everything. */
  Map<Long, Held<V>> takeAll() {
    Map<Long, Held<V>> all = new TreeMap<>(posts);
    posts.clear();
    return all;
  }

  /**
   * Keeps a post, lets {@code release} have what was kept of the posts it pushes out, removes those
   * from every timeline and then tells {@code replyTo} what {@code answer} makes of their ids.
   */
  <T> void store(
      SnNode node,
      long postId,
      int authorId,
      V value,
      Consumer<V> release,
      Function<long[], T> answer,
      ActorRef<T> replyTo) {
    deleteThenTell(node, admit(postId, authorId, value), release, answer, replyTo);
  }

  /** Deletes every post as {@link #store} deletes the ones pushed out. */
  <T> void deleteAll(
      SnNode node, Consumer<V> release, Function<long[], T> answer, ActorRef<T> replyTo) {
    deleteThenTell(node, takeAll(), release, answer, replyTo);
  }

  private <T> void deleteThenTell(
      SnNode node,
      Map<Long, Held<V>> deleted,
      Consumer<V> release,
      Function<long[], T> answer,
      ActorRef<T> replyTo) {
    deleted.values().forEach(h -> release.accept(h.value()));
    SnNode.replyWhenDone(cascade(node, deleted).thenApply(answer), replyTo);
  }

  /**
   * Removes {@code posts} from the user timeline of each one's author and from every home-timeline
   * shard; completes with their ids when all have answered.
   */
  static CompletionStage<long[]> cascade(SnNode node, Map<Long, ? extends Held<?>> posts) {
    long[] ids = posts.keySet().stream().mapToLong(Long::longValue).toArray();
    if (posts.isEmpty()) {
      return CompletableFuture.completedFuture(ids);
    }
    SnNode.Directory d = node.directory();
    List<CompletableFuture<TimelineService.Ack>> acks = new ArrayList<>();
    for (Map.Entry<Long, ? extends Held<?>> p : posts.entrySet()) {
      long postId = p.getKey();
      acks.add(delete(node, d.userTimelines().get(node.userNode(p.getValue().authorId())), postId));
      for (int n = 0; n < node.nodes(); n++) {
        acks.add(delete(node, d.homeTimelines().get(n), postId));
      }
    }
    return CompletableFuture.allOf(acks.toArray(new CompletableFuture<?>[0]))
        .thenApply(done -> ids);
  }

  private static CompletableFuture<TimelineService.Ack> delete(
      SnNode node, ActorRef<TimelineService.Command> shard, long postId) {
    return node.<TimelineService.Command, TimelineService.Ack>ask(
            shard, replyTo -> new TimelineService.Delete(postId, replyTo))
        .toCompletableFuture();
  }
}
