package dev.pekkodsm.internal;

import dev.pekkodsm.DsmException;
import dev.pekkodsm.DsmTimeoutException;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.home.HolderNotice;
import dev.pekkodsm.coherence.home.HomeReply;
import dev.pekkodsm.coherence.home.HomeRequest;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * This node's side of every request to another node: to an object's home (through the owner
 * entities' shard region) or to a node's DSM actor. Every request has a deadline, and fails at once
 * when its node leaves the cluster instead of waiting for the deadline.
 *
 * <p>Thread-safe.
 */
public final class HomeProxy {

  private final ActorSystem<?> system;
  private final PeerDirectory peers;
  private final Errors errors;
  private final ConcurrentHashMap<NodeId, Map<CompletableFuture<?>, Departures>> inFlight =
      new ConcurrentHashMap<>();
  private final AtomicLong nextRequestId = new AtomicLong(1);
  private volatile ActorRef<Protocol.OwnerCommand> region;
  private volatile ActorRef<Protocol.OwnerCommand> departedGate;

  HomeProxy(ActorSystem<?> system, PeerDirectory peers, Errors errors) {
    this.system = system;
    this.peers = peers;
    this.errors = errors;
  }

  /**
   * @param region the owner entities' shard region
   * @param departedGate where requests for a removed node's objects go ({@link DepartedShardGate}),
   *     or {@code region}
   */
  void region(
      ActorRef<Protocol.OwnerCommand> region, ActorRef<Protocol.OwnerCommand> departedGate) {
    this.region = region;
    this.departedGate = departedGate;
  }

  /** Where a request for an object of {@code home} goes. */
  private ActorRef<Protocol.OwnerCommand> regionFor(long home) {
    return peers.isDeparted(NodeId.of(home)) ? departedGate : region;
  }

  /** A fresh id for a request that may be repeated or cancelled; unique while this node lives. */
  public long nextRequestId() {
    return nextRequestId.getAndIncrement();
  }

  /** Sends a one-way request to an object's home. */
  public void tell(HomeRequest request) {
    regionFor(request.home()).tell(new Protocol.OwnerCommand(request, null));
  }

  /**
   * Asks an object's home; fails fast with {@code ObjectLostException} if the home leaves, with
   * {@link DsmTimeoutException} after {@code timeout}.
   */
  public CompletableFuture<HomeReply> ask(
      GlobalAddress target, HomeRequest request, Duration timeout, String what) {
    return askHome(target, request, timeout, what, false);
  }

  /**
   * {@link #ask} for a task run at the object's home: failed at once, too, if the home is
   * unreachable when it is sent or becomes so before it answers (the task may have run).
   */
  public CompletableFuture<HomeReply> askTask(
      GlobalAddress target, HomeRequest request, Duration timeout, String what) {
    return askHome(target, request, timeout, what, true);
  }

  private CompletableFuture<HomeReply> askHome(
      GlobalAddress target, HomeRequest request, Duration timeout, String what, boolean task) {
    CompletableFuture<HomeReply> first = askHomeOnce(target, request, timeout, what, task);
    if (!peers.replicated()) {
      return first;
    }
    // The home left while the request was on its way: its backup serves its shard now, so the
    // request is sent once more, through the shard region, to the backup.
    return first.exceptionallyCompose(
        failure ->
            Futures.unwrap(failure) instanceof HomeLeft
                ? askHomeOnce(target, request, timeout, what + " (at its new home)", task)
                : CompletableFuture.failedFuture(failure));
  }

  private CompletableFuture<HomeReply> askHomeOnce(
      GlobalAddress target, HomeRequest request, Duration timeout, String what, boolean task) {
    boolean replicated = peers.replicated();
    return tracked(
        target.node(),
        target,
        new Departures(
            replicated ? null : () -> errors.lost(target),
            replicated ? HomeLeft::new : () -> errors.lost(target),
            task ? unreachable(target.node(), what + " " + target) : null),
        () ->
            AskPattern.<Protocol.OwnerCommand, HomeReply>ask(
                regionFor(target.node().value()),
                replyTo -> new Protocol.OwnerCommand(request, replyTo),
                timeout,
                system.scheduler()),
        timeout,
        what + " " + target);
  }

  /** A request's home left before answering, and its backup serves its objects now. */
  private static final class HomeLeft extends RuntimeException {
    HomeLeft() {
      super("the home left; asking its backup", null, false, false);
    }
  }

  /**
   * {@link #ask} for a request the home answers the same way when asked again (a hand-over with the
   * same new id, a lend with the same request id): if no answer comes within {@code timeout}, asks
   * once more and waits {@code retryTimeout}, so a lost reply does not lose the grant.
   */
  public CompletableFuture<HomeReply> askRetryingOnce(
      GlobalAddress target,
      HomeRequest request,
      Duration timeout,
      Duration retryTimeout,
      String what) {
    return ask(target, request, timeout, what)
        .exceptionallyCompose(
            failure ->
                Futures.unwrap(failure) instanceof DsmTimeoutException
                    ? ask(target, request, retryTimeout, what + " (again)")
                    : CompletableFuture.failedFuture(failure));
  }

  /**
   * Asks a node's DSM actor; fails fast with {@link DsmException} if the node leaves, with {@link
   * DsmTimeoutException} after {@code timeout}.
   */
  CompletableFuture<HomeReply> askNode(
      NodeId target,
      Function<ActorRef<HomeReply>, Protocol.NodeCommand> request,
      Duration timeout,
      String what) {
    return tracked(
        target,
        null,
        new Departures(
            () -> new DsmException(null, target + " left the cluster before it could " + what),
            () ->
                new DsmException(
                    null,
                    target
                        + " left the cluster before answering ("
                        + what
                        + "); it may have run, in part or in full, and is not retried"),
            unreachable(target, what)),
        () ->
            peers
                .address(target)
                .exceptionally(
                    failure -> {
                      throw new DsmException(
                          null, target + " is not a member of the cluster: cannot " + what);
                    })
                .thenCompose(
                    address ->
                        AskPattern.<Protocol.NodeCommand, HomeReply>ask(
                            peers.nodeActor(address), request::apply, timeout, system.scheduler())),
        timeout,
        what);
  }

  /** Delivers a home's notice to the node holding the reference it is about. */
  void notifyHolder(NodeId holder, HolderNotice notice) {
    peers
        .address(holder)
        .thenAccept(address -> peers.nodeActor(address).tell(new Protocol.ToHolder(notice)));
  }

  /**
   * What a request to a node fails with when the node leaves: {@code before} if it had left before
   * the request was sent, {@code after} if it leaves before answering; and, for a task, {@code
   * unreachable} (null for other requests) if the failure detector holds it unreachable.
   */
  private record Departures(
      Supplier<RuntimeException> before,
      Supplier<RuntimeException> after,
      Supplier<RuntimeException> unreachable) {}

  /** A task's failure when {@code node} is unreachable: sent or not, it may come back. */
  private static Supplier<RuntimeException> unreachable(NodeId node, String what) {
    return () ->
        new DsmException(
            null,
            node
                + " is unreachable (the failure detector stopped hearing from it) while asked to "
                + what
                + "; if it was sent, it may have run, in part or in full, and is not retried");
  }

  /**
   * A request to {@code node}, failed at once if the node leaves the cluster before the answer (or,
   * for a task, is unreachable), and with {@link DsmTimeoutException} after {@code timeout}.
   */
  private CompletableFuture<HomeReply> tracked(
      NodeId node,
      GlobalAddress target,
      Departures departures,
      Supplier<CompletionStage<HomeReply>> send,
      Duration timeout,
      String what) {
    if (departures.before() != null && peers.isDeparted(node)) {
      return CompletableFuture.failedFuture(departures.before().get());
    }
    if (departures.unreachable() != null && peers.isUnreachable(node)) {
      return CompletableFuture.failedFuture(departures.unreachable().get());
    }
    CompletableFuture<HomeReply> result = new CompletableFuture<>();
    Map<CompletableFuture<?>, Departures> pending =
        inFlight.computeIfAbsent(node, n -> new ConcurrentHashMap<>());
    pending.put(result, departures);
    Futures.plain(send.get())
        .whenComplete(
            (reply, failure) -> {
              pending.remove(result);
              if (failure == null) {
                result.complete(reply);
              } else if (departures.before() != null && peers.isDeparted(node)) {
                result.completeExceptionally(departures.after().get());
              } else if (Futures.unwrap(failure) instanceof TimeoutException) {
                result.completeExceptionally(
                    new DsmTimeoutException(
                        target,
                        "no answer from "
                            + node
                            + " within "
                            + timeout.toMillis()
                            + " ms to "
                            + what
                            + "; the node may be unreachable, or too busy to answer",
                        failure));
              } else {
                result.completeExceptionally(failure);
              }
            });
    if (departures.before() != null && peers.isDeparted(node)) {
      result.completeExceptionally(departures.after().get());
    } else if (departures.unreachable() != null && peers.isUnreachable(node)) {
      result.completeExceptionally(departures.unreachable().get());
    }
    return result;
  }

  /**
   * Fails every request still waiting for {@code departed}, which has left the cluster.
   *
   * @return how many were failed
   */
  int failPending(NodeId departed) {
    Map<CompletableFuture<?>, Departures> pending = inFlight.remove(departed);
    int failed = 0;
    if (pending != null) {
      for (var e : pending.entrySet()) {
        failed += e.getKey().completeExceptionally(e.getValue().after().get()) ? 1 : 0;
      }
    }
    return failed;
  }

  /**
   * Fails every task still waiting for {@code node}, which the failure detector holds unreachable;
   * other requests wait on (for their deadline, the node's return or its removal).
   *
   * @return how many were failed
   */
  int failTasks(NodeId node) {
    Map<CompletableFuture<?>, Departures> pending = inFlight.get(node);
    int failed = 0;
    if (pending != null) {
      for (var e : pending.entrySet()) {
        Supplier<RuntimeException> unreachable = e.getValue().unreachable();
        if (unreachable != null && e.getKey().completeExceptionally(unreachable.get())) {
          pending.remove(e.getKey());
          failed++;
        }
      }
    }
    return failed;
  }
}
