package dev.pekkodsm.samples.socialnet;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * What the services of one node share: the node's place in the cluster, where every service of
 * every node is ({@link Directory}, installed once every node has spawned its services), how keys
 * are sharded, and asks with the run's deadline.
 *
 * <p>Sharding follows DeathStarBench's storage: user, social-graph, user-timeline and home-timeline
 * state by user id, post-storage by post id, user names by name, each key owned by one node ({@code
 * key mod nodes}, hashed where keys cluster). Stateless services (text, url-shorten, user-mention,
 * media, compose-post, unique-id) have a replica on every node; compose-post and unique-id are used
 * on the node a request enters, text and media on a node chosen from the post id, as DRust's
 * compose spreads them.
 */
final class SnNode {

  private final int index;
  private final int nodes;
  private final ActorSystem<?> system;
  private final Duration askTimeout;
  private volatile Directory directory;
  private final LongAdder readRetries = new LongAdder();

  SnNode(int index, int nodes, ActorSystem<?> system, Duration askTimeout) {
    this.index = index;
    this.nodes = nodes;
    this.system = system;
    this.askTimeout = askTimeout;
  }

  int index() {
    return index;
  }

  int nodes() {
    return nodes;
  }

  ActorSystem<?> system() {
    return system;
  }

  Duration askTimeout() {
    return askTimeout;
  }

  /** Where every service is, as seen from this node. */
  Directory directory() {
    Directory d = directory;
    if (d == null) {
      throw new IllegalStateException("node " + index + " has not been wired yet");
    }
    return d;
  }

  /** Counts a timeline read tried again because a handle could not be copied yet. */
  void readRetried() {
    readRetries.increment();
  }

  /** Timeline reads tried again so far on this node. */
  long readRetries() {
    return readRetries.sum();
  }

  void install(Directory directory) {
    this.directory = directory;
  }

  /** The node owning user {@code userId}'s state. */
  int userNode(int userId) {
    return userId % nodes;
  }

  /** The node owning post {@code postId}'s storage. */
  int postNode(long postId) {
    return (int) Math.floorMod(mix(postId), (long) nodes);
  }

  /** The node owning the user name {@code name}. */
  int nameNode(String name) {
    return Math.floorMod(name.hashCode(), nodes);
  }

  /**
   * The replica of a stateless service that works on post {@code postId}; {@code salt} per service.
   */
  int computeNode(long postId, int salt) {
    return (int) Math.floorMod(mix(postId * 31 + salt), (long) nodes);
  }

  /** An ask with the run's deadline; what follows it runs on the actor system's dispatcher. */
  <Req, Res> CompletionStage<Res> ask(RecipientRef<Req> to, Function<ActorRef<Res>, Req> message) {
    return onDispatcher(AskPattern.ask(to, message::apply, askTimeout, system.scheduler()));
  }

  /**
   * A stage completed on the actor system's default dispatcher when {@code stage} completes, whose
   * dependent stages run there too. Pekko's Java ask runs even the non-async callbacks of its
   * stages asynchronously on the common fork-join pool, which on a machine of one or two processors
   * is a new thread per callback; Hazelcast's futures do the same; and a reply completes an ask on
   * the thread that delivered it (for a remote reply, Artery's), which must not run a service's
   * work.
   */
  <T> CompletableFuture<T> onDispatcher(CompletionStage<T> stage) {
    CompletableFuture<T> out = new CompletableFuture<>();
    stage.whenCompleteAsync(
        (value, failure) -> {
          if (failure == null) {
            out.complete(value);
          } else {
            out.completeExceptionally(failure);
          }
        },
        system.executionContext());
    return out;
  }

  /**
   * Tells {@code replyTo} the stage's value once it completes. A stage that fails tells nothing:
   * the asker's own deadline ends its wait, as it would for a lost message.
   */
  static <T> void replyWhenDone(CompletionStage<? extends T> stage, ActorRef<T> replyTo) {
    stage.whenComplete(
        (value, failure) -> {
          if (failure == null) {
            replyTo.tell(value);
          }
        });
  }

  /** Spreads ids made in sequence over the nodes (Fibonacci hashing: the golden ratio's bits). */
  static long mix(long key) {
    return (key * 0x9E3779B97F4A7C15L) >>> 16;
  }

  /**
   * Every node's services as references usable from one node (resolved in its actor system, so a
   * message to another node's service crosses Artery like any remote message).
   */
  record Directory(
      List<ActorRef<UserService.Command>> users,
      List<ActorRef<SocialGraphService.Command>> socialGraphs,
      List<ActorRef<UrlShortenService.Command>> urlShorteners,
      List<ActorRef<UserMentionService.Command>> userMentions,
      List<ActorRef<TextService.Command>> texts,
      List<ActorRef<TimelineService.Command>> userTimelines,
      List<ActorRef<TimelineService.Command>> homeTimelines,
      List<ActorRef<Object>> medias,
      List<ActorRef<Object>> postStorages,
      ActorRef<UniqueIdService.Command> uniqueId) {

    @SuppressWarnings("unchecked")
    <T> ActorRef<T> media(int node) {
      return (ActorRef<T>) (ActorRef<?>) medias.get(node);
    }

    @SuppressWarnings("unchecked")
    <T> ActorRef<T> postStorage(int node) {
      return (ActorRef<T>) (ActorRef<?>) postStorages.get(node);
    }
  }
}
