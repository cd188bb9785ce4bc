package dev.pekkodsm.internal;

import dev.pekkodsm.ObjectLostException;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.ObjectTable;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.mutex.MutexHome;
import dev.pekkodsm.memory.SyncAccess;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * What the handles of one node work with: the client side of the protocol. Every handle core holds
 * this node's context; it is built once, by {@link DsmNode}, and never changes.
 */
public final class ClientContext {

  private final DsmNode node;
  private final DsmSettings settings;
  private final ObjectTable table;
  private final HomeProxy homes;
  private final SnapshotReader reader;
  private final SnapshotPublisher publisher;
  private final Shipping shipping;
  private final TaskDispatcher tasks;
  private final TaskRunner runner;
  private final RefRegistry refs;
  private final PeerDirectory peers;
  private final Errors errors;
  private final Metrics metrics;
  private final Executor executor;
  private final Duration blockingBudget;

  ClientContext(
      DsmNode node,
      DsmSettings settings,
      ObjectTable table,
      HomeProxy homes,
      SnapshotReader reader,
      SnapshotPublisher publisher,
      Shipping shipping,
      TaskDispatcher tasks,
      TaskRunner runner,
      RefRegistry refs,
      PeerDirectory peers,
      Errors errors,
      Metrics metrics,
      Executor executor) {
    this.node = node;
    this.settings = settings;
    this.table = table;
    this.homes = homes;
    this.reader = reader;
    this.publisher = publisher;
    this.shipping = shipping;
    this.tasks = tasks;
    this.runner = runner;
    this.refs = refs;
    this.peers = peers;
    this.errors = errors;
    this.metrics = metrics;
    this.executor = executor;
    this.blockingBudget = settings.blockingBudget();
  }

  /** The node these handles live on. */
  public NodeId self() {
    return table.self();
  }

  /** The node's composition root, for {@code Dsm.current()} and the project's tools. */
  /**
   * A box or arc was just allocated here: with replication on, waits until its backup holds it.
   *
   * @throws dev.pekkodsm.DsmException if the backup does not acknowledge in time
   */
  public void allocated(OwnedObject obj) {
    node.replication().allocated(obj);
  }

  public DsmNode node() {
    return node;
  }

  public DsmSettings settings() {
    return settings;
  }

  /** The objects homed on this node. */
  public ObjectTable table() {
    return table;
  }

  /** Requests to other nodes. */
  public HomeProxy homes() {
    return homes;
  }

  /** One-sided reads and decoding. */
  public SnapshotReader reader() {
    return reader;
  }

  /** Publishing into this node's arena, and the snapshot serializer. */
  public SnapshotPublisher publisher() {
    return publisher;
  }

  /** Tasks and functions as they travel. */
  public Shipping shipping() {
    return shipping;
  }

  /** Where tasks go. */
  public TaskDispatcher tasks() {
    return tasks;
  }

  /** This node's task threads. */
  public TaskRunner runner() {
    return runner;
  }

  /** References held here, reachable by their homes. */
  public RefRegistry refs() {
    return refs;
  }

  public Errors errors() {
    return errors;
  }

  public Metrics metrics() {
    return metrics;
  }

  /**
   * True if homes keep a backup ({@code pekko.dsm.replication.factor} 1): every commit and atomic
   * operation is then held by the backup before it is seen (a commit written there by its writer,
   * or made by the home, which ships it first).
   */
  public boolean replicated() {
    return settings().replicationFactor > 0;
  }

  /** True if {@code node} was removed from the cluster. */
  boolean departed(NodeId node) {
    return peers.isDeparted(node);
  }

  /** This node's sync region as a peer writes it: changes not reported to the backup. */
  SyncAccess unreportedRegion() {
    return node.region().unreported();
  }

  /** Copies this node to its backup again and waits ({@link Replication#recopy}). */
  void recopyHere(long seenEpoch) {
    node.replication().recopy(seenEpoch);
  }

  /** This node as a backup: the mirrors it keeps. */
  ReplicaHost replicas() {
    return node.replicas();
  }

  /** How to ask {@code node} (a replicated home, or a backup) over its tcp server. */
  HomeSync homeSync(NodeId node) {
    return peers.homeSync(node);
  }

  /** The home side of the locks of the mutexes homed on this node. */
  public MutexHome mutexes() {
    return node.mutexes();
  }

  /**
   * One-sided access to {@code node}'s sync region: this node's own region, or the peer's through
   * its transport (ready once the peer's endpoint is known).
   */
  public CompletableFuture<SyncAccess> sync(NodeId node) {
    if (node.equals(self())) {
      return CompletableFuture.completedFuture(this.node.region());
    }
    return peers
        .reader(node)
        .<SyncAccess>thenApply(reader -> reader)
        .exceptionallyCompose(
            failure ->
                CompletableFuture.failedFuture(
                    peers.objectsLost(node)
                        ? new ObjectLostException(
                            new GlobalAddress(node, 0, 0),
                            "the objects of "
                                + node
                                + " were lost: it left the cluster and no replica exists")
                        : Futures.unwrap(failure)));
  }

  /** The deadline of a one-sided operation started now. */
  public long deadlineNs() {
    return System.nanoTime() + settings.askTimeout.toNanos();
  }

  /** True if {@code node} has left the cluster. */
  public boolean isDeparted(NodeId node) {
    return peers.isDeparted(node);
  }

  /** True if the objects homed on {@code node} are gone for good (removed, and not backed up). */
  public boolean objectsLost(NodeId node) {
    return peers.objectsLost(node);
  }

  /** The Up members, this node included, in a fixed order. */
  public List<NodeId> upMembers() {
    return peers.upMembers();
  }

  /** {@code pekko.dsm.borrow-timeout} in nanoseconds. */
  public long borrowTimeoutNs() {
    return settings.borrowTimeout.toNanos();
  }

  /** How long a request waits when it may also wait for borrows at its home. */
  public Duration borrowingAskTimeout() {
    return settings.borrowTimeout.plus(settings.askTimeout);
  }

  /**
   * Waits for a future that the DSM guarantees to complete within its own deadlines; see {@link
   * Futures#await}.
   */
  public <T> T await(
      CompletableFuture<T> future, GlobalAddress address, String what, Consumer<? super T> undo) {
    return Futures.await(future, blockingBudget, address, what, undo);
  }

  /** {@link #await} for results that need no undoing. */
  public <T> T await(CompletableFuture<T> future, GlobalAddress address, String what) {
    return await(future, address, what, ignored -> {});
  }

  /**
   * Waits for the result of tasks: as long as a task may take, plus a borrow wait and a request.
   */
  public <T> T awaitTasks(CompletableFuture<T> future, GlobalAddress address, String what) {
    return Futures.await(future, runner.budget(), address, what, ignored -> {});
  }

  /** A stage for a user: its continuations run on the system's dispatcher if it is not done. */
  public <T> CompletableFuture<T> handOff(CompletableFuture<T> future) {
    return Futures.handOff(future, executor);
  }

  /** Where continuations of asynchronous operations run: the system's default dispatcher. */
  public Executor executor() {
    return executor;
  }
}
