package dev.pekkodsm.samples.socialnet;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * user-timeline and home-timeline: the timelines of the users of one shard, newest post first
 * (DeathStarBench keeps them as Redis sorted sets keyed by user id). Both services are this
 * behavior; the home timeline also takes {@link FanOut}, DeathStarBench's WriteHomeTimeline: at the
 * author's shard it asks social-graph for the author's followers and inserts the post into their
 * timelines and the timelines of the users it mentions, one {@link Insert} per shard holding some
 * of them, and answers when every shard has.
 *
 * <p>Timelines hold post ids. In the {@code dsm} variant they hold the post's {@link PostHandles}
 * too: one pair per shard, shared by all its timelines that show the post, and a {@link Read}
 * answers with a copy of each pair, so the reader reads the post and its media from wherever they
 * live without asking post-storage. A post leaves every timeline when post-storage deletes it
 * ({@link Delete}); a shard then drops its pair. A deletion that overtakes the insertion of the
 * same post leaves a tombstone, so the late insertion is refused (and its pair dropped) instead of
 * showing a deleted post forever; the newest {@value #TOMBSTONES} tombstones are kept.
 */
final class TimelineService {

  static final int TOMBSTONES = 1 << 16;

  /** How long a read waits before trying again to copy handles whose weight is spent. */
  static final Duration RETRY_AFTER = Duration.ofMillis(2);

  /** How often a read tries again. */
  static final int RETRIES = 1000;

  sealed interface Command extends SnMessage permits Insert, FanOut, Read, Delete, RetryRead {}

  /** Adds the post to the timelines of {@code users} (all of this shard). */
  record Insert(long postId, int[] users, PostHandles handles, ActorRef<Ack> replyTo)
      implements Command {}

  /** Home timeline only, at the author's shard: adds the post to its followers' and mentions'. */
  record FanOut(
      long postId, int authorId, int[] mentionIds, PostHandles handles, ActorRef<Ack> replyTo)
      implements Command {}

  /** The posts of {@code userId}'s timeline from position {@code start} to {@code stop}. */
  record Read(int userId, int start, int stop, ActorRef<Page> replyTo) implements Command {}

  /** A read whose handles could not all be copied yet, tried again (local only). */
  private record RetryRead(Read read, int attempt) implements Command {}

  /** Removes the post from every timeline of this shard. */
  record Delete(long postId, ActorRef<Ack> replyTo) implements Command {}

  /** Done; {@code users} is how many timelines were changed. */
  record Ack(int users) implements SnMessage {}

  /** Post ids, newest first; in the {@code dsm} variant a pair of handles per post, else null. */
  record Page(int userId, long[] postIds, List<PostHandles> handles) implements SnMessage {}

  private TimelineService() {}

  /** A user-timeline shard. */
  static Behavior<Command> userTimeline(SnNode node) {
    return create(node, false);
  }

  /** A home-timeline shard. */
  static Behavior<Command> homeTimeline(SnNode node) {
    return create(node, true);
  }

  private static Behavior<Command> create(SnNode node, boolean home) {
    return Behaviors.setup(ctx -> create(node, home, ctx, new Shard()));
  }

  private static Behavior<Command> create(
      SnNode node, boolean home, ActorContext<Command> ctx, Shard shard) {
    return Behaviors.receive(Command.class)
        .onMessage(
            Insert.class,
            m -> {
              m.replyTo().tell(new Ack(shard.insert(m.postId(), m.users(), m.handles())));
              return Behaviors.same();
            })
        .onMessage(
            FanOut.class,
            m -> {
              if (!home) {
                throw new IllegalStateException("a user timeline does not fan out");
              }
              fanOut(node, m);
              return Behaviors.same();
            })
        .onMessage(
            Read.class,
            m -> {
              read(node, ctx, shard, m, 0);
              return Behaviors.same();
            })
        .onMessage(
            RetryRead.class,
            m -> {
              read(node, ctx, shard, m.read(), m.attempt());
              return Behaviors.same();
            })
        .onMessage(
            Delete.class,
            m -> {
              m.replyTo().tell(new Ack(shard.delete(m.postId())));
              return Behaviors.same();
            })
        .build();
  }

  /**
   * Answers a read, or, if a pair of handles could not be copied because its weight is spent and
   * the top-up from the post's home has not arrived yet (pekko-dsm then says: retry shortly), tries
   * again in {@link #RETRY_AFTER}, up to {@link #RETRIES} times; past that the reader's deadline
   * ends its wait.
   */
  private static void read(
      SnNode node, ActorContext<Command> ctx, Shard shard, Read m, int attempt) {
    Page page = shard.read(m.userId(), m.start(), m.stop());
    if (page != null) {
      m.replyTo().tell(page);
    } else if (attempt < RETRIES) {
      node.readRetried();
      ctx.scheduleOnce(RETRY_AFTER, ctx.getSelf(), new RetryRead(m, attempt + 1));
    }
  }

  private static void fanOut(SnNode node, FanOut m) {
    SnNode.Directory d = node.directory();
    SnNode.replyWhenDone(fanOutStage(node, d, m), m.replyTo());
  }

  private static CompletionStage<Ack> fanOutStage(SnNode node, SnNode.Directory d, FanOut m) {
    return node.<SocialGraphService.Command, SocialGraphService.Followers>ask(
            d.socialGraphs().get(node.userNode(m.authorId())),
            replyTo -> new SocialGraphService.GetFollowers(m.authorId(), replyTo))
        .thenCompose(
            followers -> {
              TreeSet<Integer> recipients = new TreeSet<>();
              for (int f : followers.followers()) {
                recipients.add(f);
              }
              for (int mentioned : m.mentionIds()) {
                recipients.add(mentioned);
              }
              List<List<Integer>> byNode = new ArrayList<>();
              for (int n = 0; n < node.nodes(); n++) {
                byNode.add(new ArrayList<>());
              }
              recipients.forEach(u -> byNode.get(node.userNode(u)).add(u));
              List<Integer> targets = new ArrayList<>();
              for (int n = 0; n < node.nodes(); n++) {
                if (!byNode.get(n).isEmpty()) {
                  targets.add(n);
                }
              }
              List<CompletableFuture<Ack>> acks = new ArrayList<>();
              for (int i = 0; i < targets.size(); i++) {
                int n = targets.get(i);
                int[] users = byNode.get(n).stream().mapToInt(Integer::intValue).toArray();
                // The last shard gets the pair the author's shard was given, the others copies.
                PostHandles handles =
                    m.handles() == null || i == targets.size() - 1
                        ? m.handles()
                        : m.handles().copy();
                acks.add(
                    node.<Command, Ack>ask(
                            d.homeTimelines().get(n),
                            replyTo -> new Insert(m.postId(), users, handles, replyTo))
                        .toCompletableFuture());
              }
              if (targets.isEmpty() && m.handles() != null) {
                m.handles().drop();
              }
              return CompletableFuture.allOf(acks.toArray(new CompletableFuture<?>[0]))
                  .thenApply(done -> new Ack(recipients.size()));
            });
  }

  /** The state of one shard's timelines. Confined to the shard's actor. */
  static final class Shard {
    private final Map<Integer, NavigableSet<Long>> timelines = new HashMap<>();
    private final Map<Long, Held> posts = new HashMap<>();
    private final LinkedHashSet<Long> tombstones = new LinkedHashSet<>();

    /** A post shown by some timelines of the shard: who shows it, and its pair (dsm). */
    private record Held(List<Integer> users, PostHandles handles) {}

    int insert(long postId, int[] users, PostHandles handles) {
      if (tombstones.contains(postId)) {
        if (handles != null) {
          handles.drop();
        }
        return 0;
      }
      Held held = posts.get(postId);
      if (held == null) {
        held = new Held(new ArrayList<>(), handles);
        posts.put(postId, held);
      } else if (handles != null) {
        handles.drop(); // the shard holds one pair per post
      }
      int added = 0;
      for (int u : users) {
        if (timelines
            .computeIfAbsent(u, k -> new TreeSet<>(Collections.reverseOrder()))
            .add(postId)) {
          held.users().add(u);
          added++;
        }
      }
      return added;
    }

    /** The page, or null if a pair of handles could not be copied now (see {@link #read}). */
    Page read(int userId, int start, int stop) {
      NavigableSet<Long> timeline = timelines.get(userId);
      List<Long> ids = new ArrayList<>();
      if (timeline != null && start >= 0 && stop > start) {
        Iterator<Long> it = timeline.iterator();
        for (int i = 0; i < stop && it.hasNext(); i++) {
          long id = it.next();
          if (i >= start) {
            ids.add(id);
          }
        }
      }
      long[] postIds = ids.stream().mapToLong(Long::longValue).toArray();
      List<PostHandles> handles = null;
      for (long id : postIds) {
        PostHandles h = posts.get(id).handles();
        if (h != null) {
          if (handles == null) {
            handles = new ArrayList<>(postIds.length);
          }
          PostHandles copy = h.tryCopy();
          if (copy == null) {
            handles.forEach(PostHandles::drop);
            return null;
          }
          handles.add(copy);
        }
      }
      return new Page(userId, postIds, handles);
    }

    int delete(long postId) {
      tombstones.add(postId);
      if (tombstones.size() > TOMBSTONES) {
        Iterator<Long> oldest = tombstones.iterator();
        oldest.next();
        oldest.remove();
      }
      Held held = posts.remove(postId);
      if (held == null) {
        return 0;
      }
      for (int u : held.users()) {
        NavigableSet<Long> timeline = timelines.get(u);
        timeline.remove(postId);
        if (timeline.isEmpty()) {
          timelines.remove(u);
        }
      }
      if (held.handles() != null) {
        held.handles().drop();
      }
      return held.users().size();
    }

    /** Posts held by the shard, for tests. */
    int posts() {
      return posts.size();
    }
  }
}
