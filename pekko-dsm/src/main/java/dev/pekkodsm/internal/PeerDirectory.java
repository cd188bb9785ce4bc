package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.replication.BackupRing;
import dev.pekkodsm.memory.PeerEndpoint;
import dev.pekkodsm.memory.PeerReader;
import dev.pekkodsm.memory.TcpTransport;
import dev.pekkodsm.memory.TransportUnavailableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What this node knows of the others: which are members, which have left, where their DSM actor is,
 * and a reader for each one's arena.
 *
 * <p>Endpoints are fetched from each member's DSM actor when the member comes up (and on demand if
 * a read needs one first). A member whose class registry differs from ours is refused: its
 * snapshots would be misread.
 *
 * <p>Thread-safe.
 */
final class PeerDirectory {

  static final String NODE_ACTOR_NAME = "pekko-dsm";
  private static final Duration ATTEMPT = Duration.ofMillis(500);
  private static final Logger log = LoggerFactory.getLogger(PeerDirectory.class);

  private final ActorSystem<?> system;
  private final NodeId self;
  private final long registryFingerprint;
  private final Transports transports;
  private final Duration askTimeout;
  private final boolean replicated;
  private final ConcurrentHashMap<NodeId, Address> members = new ConcurrentHashMap<>();
  private final Set<NodeId> departed = ConcurrentHashMap.newKeySet();
  private final Set<NodeId> up = ConcurrentHashMap.newKeySet();
  private final Set<NodeId> unreachable = ConcurrentHashMap.newKeySet();
  private final ConcurrentHashMap<NodeId, CompletableFuture<Address>> awaitedMembers =
      new ConcurrentHashMap<>();
  private final ConcurrentHashMap<NodeId, CompletableFuture<PeerReader>> readers =
      new ConcurrentHashMap<>();
  private final TcpTransport messaging; // null: no home is asked over tcp
  private final ConcurrentHashMap<NodeId, HomeSync> homeSyncs = new ConcurrentHashMap<>();

  PeerDirectory(
      ActorSystem<?> system,
      NodeId self,
      long registryFingerprint,
      Transports transports,
      Duration askTimeout,
      boolean replicated,
      TcpTransport messaging) {
    this.replicated = replicated;
    this.messaging = replicated ? messaging : null;
    this.system = system;
    this.self = self;
    this.registryFingerprint = registryFingerprint;
    this.transports = transports;
    this.askTimeout = askTimeout;
  }

  /** A member joined ({@code up} false) or came up. */
  void memberUp(NodeId node, Address address, boolean up) {
    if (departed.contains(node)) {
      return;
    }
    members.put(node, address);
    if (up) {
      this.up.add(node);
    }
    CompletableFuture<Address> waiting = awaitedMembers.remove(node);
    if (waiting != null) {
      waiting.complete(address);
    }
    if (!node.equals(self) && up) {
      reader(node); // fetch the endpoint early so the first read does not wait for it
    }
  }

  /** A member was removed from the cluster: it will never come back. */
  void memberRemoved(NodeId node) {
    departed.add(node);
    members.remove(node);
    up.remove(node);
    unreachable.remove(node);
    CompletableFuture<Address> waiting = awaitedMembers.remove(node);
    if (waiting != null) {
      waiting.completeExceptionally(new IllegalStateException(node + " has left the cluster"));
    }
    CompletableFuture<PeerReader> reader = readers.remove(node);
    if (reader != null) {
      reader.thenAccept(PeerReader::close);
    }
    HomeSync sync = homeSyncs.remove(node);
    if (sync != null) {
      sync.close();
    }
    transports.forget(node);
  }

  /**
   * How to ask the home of {@code node}'s objects (its promoter once it left) to make a commit or
   * an atomic operation: over its tcp server once its reader is open, else {@link HomeSync#NONE}.
   */
  HomeSync homeSync(NodeId node) {
    return homeSyncs.getOrDefault(node, HomeSync.NONE);
  }

  /**
   * True if the objects homed on {@code node} are gone for good: it was removed and nothing backed
   * it up. With replication on, a removed node's objects are served by its backup (a backup that
   * holds no mirror of it answers "lost" itself).
   */
  boolean objectsLost(NodeId node) {
    return !replicated && departed.contains(node);
  }

  /** True if removed nodes' objects are served by their backups. */
  boolean replicated() {
    return replicated;
  }

  /**
   * The member that serves the objects of removed {@code node}: its successor in the ring, as every
   * node computes it.
   */
  Optional<NodeId> servedBy(NodeId node) {
    return BackupRing.of(ringMembers()).backupOf(node);
  }

  /** True once {@code node} has been removed from the cluster. */
  boolean isDeparted(NodeId node) {
    return departed.contains(node);
  }

  /**
   * The failure detector's verdict on {@code node}: unreachable (it may come back, or be removed).
   */
  void reachability(NodeId node, boolean reachable) {
    if (reachable) {
      unreachable.remove(node);
    } else if (!departed.contains(node)) {
      unreachable.add(node);
    }
  }

  /** True while the failure detector holds {@code node} unreachable. */
  boolean isUnreachable(NodeId node) {
    return unreachable.contains(node);
  }

  /** True while {@code node} is a member. */
  boolean isMember(NodeId node) {
    return members.containsKey(node);
  }

  /** The members that are Up and reachable (this node always among them), in a fixed order. */
  List<NodeId> upMembers() {
    TreeSet<NodeId> nodes = new TreeSet<>(Comparator.comparingLong(NodeId::value));
    nodes.addAll(up);
    nodes.removeAll(unreachable);
    nodes.add(self);
    return List.copyOf(nodes);
  }

  /**
   * The members that are Up, reachable or not, and this node: the ring that places backups (a
   * member the failure detector doubts keeps its place until it is removed).
   */
  List<NodeId> ringMembers() {
    List<NodeId> nodes = new ArrayList<>(up);
    nodes.add(self);
    return nodes;
  }

  /** The member's address, waiting up to the ask timeout for it to be seen. */
  CompletableFuture<Address> address(NodeId node) {
    Address known = members.get(node);
    if (known != null) {
      return CompletableFuture.completedFuture(known);
    }
    if (departed.contains(node)) {
      return CompletableFuture.failedFuture(
          new IllegalStateException(node + " has left the cluster"));
    }
    CompletableFuture<Address> waiting =
        awaitedMembers.computeIfAbsent(node, n -> new CompletableFuture<>());
    // Membership may have changed between the two looks above.
    Address now = members.get(node);
    if (now != null) {
      waiting.complete(now);
    }
    // Each caller gets its own deadline; the shared future is not bound by any of them.
    return waiting.copy().orTimeout(askTimeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The DSM actor of a member. */
  ActorRef<Protocol.NodeCommand> nodeActor(Address address) {
    return ActorRefResolver.get(system)
        .resolveActorRef(address.toString() + "/system/" + NODE_ACTOR_NAME);
  }

  /**
   * The reader of {@code node}'s arena; completes when its endpoint has been fetched and mapped, or
   * fails with the reason it cannot be.
   */
  CompletableFuture<PeerReader> reader(NodeId node) {
    CompletableFuture<PeerReader> existing = readers.get(node);
    if (existing != null && !existing.isCompletedExceptionally()) {
      return existing;
    }
    CompletableFuture<PeerReader> fresh = new CompletableFuture<>();
    CompletableFuture<PeerReader> raced =
        existing == null
            ? readers.putIfAbsent(node, fresh)
            : (readers.replace(node, existing, fresh) ? null : readers.get(node));
    if (raced != null) {
      return raced;
    }
    long deadlineNs = System.nanoTime() + askTimeout.toNanos();
    boolean promoted = replicated && departed.contains(node);
    CompletableFuture<Protocol.EndpointInfo> endpoint =
        promoted
            ? servedBy(node)
                .map(
                    server ->
                        address(server)
                            .thenCompose(address -> fetchEndpoint(address, node, deadlineNs)))
                .orElseGet(
                    () ->
                        CompletableFuture.failedFuture(
                            new IllegalStateException("no member is left to serve " + node)))
            : address(node).thenCompose(address -> fetchEndpoint(address, null, deadlineNs));
    endpoint.whenComplete(
        (info, failure) -> {
          if (failure != null) {
            fresh.completeExceptionally(
                new IllegalStateException(
                    "cannot fetch the arena endpoint of " + node + ": " + failure, failure));
            return;
          }
          if (info.registryFingerprint() != registryFingerprint) {
            String message =
                node
                    + " has a different class registry (fingerprint "
                    + Long.toHexString(info.registryFingerprint())
                    + ", ours "
                    + Long.toHexString(registryFingerprint)
                    + "): every node must register the same classes under the same ids in "
                    + "pekko.dsm.serialization.classes";
            log.error(message);
            fresh.completeExceptionally(new IllegalStateException(message));
            return;
          }
          try {
            PeerReader reader = transports.open(node, info.endpoint());
            if (!fresh.complete(reader) || (!promoted && departed.contains(node))) {
              reader.close();
            } else if (messaging != null && info.endpoint().hasTcp()) {
              HomeSync sync =
                  new HomeSync(
                      messaging.messenger(info.endpoint()),
                      self.value(),
                      "the tcp server of " + (promoted ? "the promoter of " : "") + node);
              HomeSync old = homeSyncs.put(node, sync);
              if (old != null) {
                old.close();
              }
              if (!promoted && departed.contains(node) && homeSyncs.remove(node, sync)) {
                sync.close(); // removed meanwhile: its promoter's is made when asked for
              }
            }
          } catch (TransportUnavailableException | RuntimeException e) {
            log.warn(e.getMessage());
            fresh.completeExceptionally(new IllegalStateException(e.getMessage(), e));
          }
        });
    return fresh;
  }

  /** What {@code node} publishes (its own, not a promoted primary's), fetched from it. */
  CompletableFuture<PeerEndpoint> endpoint(NodeId node) {
    long deadlineNs = System.nanoTime() + askTimeout.toNanos();
    return address(node)
        .thenCompose(address -> fetchEndpoint(address, null, deadlineNs))
        .thenApply(Protocol.EndpointInfo::endpoint);
  }

  /**
   * Asks a member's DSM actor for its endpoint, in short attempts until the deadline: a member can
   * be Up before its DSM has started, and a question asked too early is simply lost.
   */
  private CompletableFuture<Protocol.EndpointInfo> fetchEndpoint(
      Address address, NodeId of, long deadlineNs) {
    long leftNs = deadlineNs - System.nanoTime();
    Duration attempt = Duration.ofNanos(Math.max(1, Math.min(leftNs, ATTEMPT.toNanos())));
    return Futures.plain(
            AskPattern.<Protocol.NodeCommand, Protocol.EndpointInfo>ask(
                nodeActor(address),
                replyTo ->
                    of == null
                        ? new Protocol.GetEndpoint(replyTo)
                        : new Protocol.GetEndpointOf(of.value(), replyTo),
                attempt,
                system.scheduler()))
        .handle(
            (info, failure) -> {
              if (failure == null) {
                return CompletableFuture.completedFuture(info);
              }
              if (System.nanoTime() - deadlineNs >= 0) {
                return CompletableFuture.<Protocol.EndpointInfo>failedFuture(failure);
              }
              return fetchEndpoint(address, of, deadlineNs);
            })
        .thenCompose(f -> f);
  }

  /** Drops every reader. */
  void close() {
    readers.values().forEach(f -> f.thenAccept(PeerReader::close));
    readers.clear();
    homeSyncs.values().forEach(HomeSync::close);
    homeSyncs.clear();
  }
}
