package dev.pekkodsm;

import dev.pekkodsm.coherence.AtomicCell;
import dev.pekkodsm.coherence.LendLedger;
import dev.pekkodsm.coherence.MutexCell;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.ObjectKind;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.home.RunMode;
import dev.pekkodsm.internal.AtomicCore;
import dev.pekkodsm.internal.BoxCore;
import dev.pekkodsm.internal.ClientContext;
import dev.pekkodsm.internal.DsmNode;
import dev.pekkodsm.internal.HandleKind;
import dev.pekkodsm.internal.HomeTasks;
import dev.pekkodsm.internal.LendCore;
import dev.pekkodsm.internal.MutexCore;
import dev.pekkodsm.internal.NodeRuntime;
import dev.pekkodsm.memory.SyncLayout;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.annotation.InternalApi;

/**
 * The distributed shared memory of one node (one {@code ActorSystem} in a Pekko cluster).
 *
 * <pre>{@code
 * Dsm dsm = Dsm.get(system);
 * DBox<Account> box = dsm.alloc(new Account(100));
 * DRef<Account> ref = box.share();           // send it to any node; get() there is one-sided
 * box.write(a -> a.deposit(5));              // waits until every lent reference is released
 * }</pre>
 *
 * <p>Start it on every node when the node starts ({@code Dsm.get(system)}, or list {@code
 * "dev.pekkodsm.Dsm$Id"} in {@code pekko.actor.typed.extensions}): each node hosts the owners of
 * the objects that live on it. Requires the cluster actor provider. Thread-safe.
 */
public final class Dsm implements Extension {

  /** The extension id, for {@code pekko.actor.typed.extensions}. */
  public static final class Id extends ExtensionId<Dsm> {
    @Override
    public Dsm createExtension(ActorSystem<?> system) {
      return new Dsm(system);
    }
  }

  private static final Id ID = new Id();

  private final DsmNode node;
  private final ClientContext ctx;
  private final NodeRuntime runtime;

  private Dsm(ActorSystem<?> system) {
    this.runtime = NodeRuntime.get(system);
    this.node = runtime.node();
    this.ctx = node.client();
    dev.pekkodsm.metrics.DsmJmx.register(system, this);
  }

  /** The DSM of a typed actor system, started on first use. */
  public static Dsm get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** The DSM of a classic actor system, started on first use. */
  public static Dsm get(org.apache.pekko.actor.ActorSystem system) {
    return get(Adapter.toTyped(system));
  }

  /** This node. */
  public NodeId self() {
    return node.self();
  }

  /**
   * Allocates an object homed on this node and returns its unique owner. The DSM takes ownership of
   * {@code value}: keep no other reference to it, and change it only through the box. Sends no
   * message and serializes nothing.
   *
   * @throws NullPointerException if value is null
   * @throws IllegalArgumentException if the value's class (or a class it holds in a field of exact
   *     type) is not registered with the DSM serializer
   */
  public <T> DBox<T> alloc(T value) {
    requireRegistered(value);
    OwnedObject obj = ctx.table().allocate(value);
    ctx.allocated(obj);
    return new DBox<>(BoxCore.local(ctx, obj));
  }

  /**
   * Allocates an immutable value with shared ownership, homed on this node, and returns its first
   * handle. The DSM takes ownership of {@code value}: it must never be modified afterwards.
   *
   * @throws IllegalArgumentException if the value's class is not registered
   */
  public <T> DArc<T> arc(T value) {
    requireRegistered(value);
    return new DArc<>(firstShare(HandleKind.ARC, ObjectKind.ARC, value));
  }

  /**
   * Allocates a {@code long} with shared ownership, homed on this node, updated atomically at its
   * home, and returns its first handle.
   */
  public DAtomicLong atomicLong(long initial) {
    long id = ctx.table().nextObjectId();
    long cell = node.region().allocateCell(SyncLayout.KIND_ATOMIC, id);
    node.region().compareAndExchange(cell, id, SyncLayout.WORD, 0, initial, 0);
    return new DAtomicLong(
        new AtomicCore(firstShare(HandleKind.ATOMIC, ObjectKind.ATOMIC, id, new AtomicCell(cell))));
  }

  /**
   * Allocates shared mutable state ({@code Arc<Mutex<T>>}) homed on this node, and returns its
   * first handle. The DSM takes ownership of {@code value}: change it only under the lock.
   *
   * @throws IllegalArgumentException if the value's class is not registered
   */
  public <T> DMutex<T> mutex(T value) {
    requireRegistered(value);
    long id = ctx.table().nextObjectId();
    MutexCell cell = node.mutexes().create(id, value);
    return new DMutex<>(new MutexCore(firstShare(HandleKind.MUTEX, ObjectKind.MUTEX, id, cell)));
  }

  /** A new object with shared ownership, homed here, and this node's first share of it. */
  private LendCore firstShare(HandleKind handle, ObjectKind kind, Object value) {
    return firstShare(handle, kind, ctx.table().nextObjectId(), value);
  }

  private LendCore firstShare(HandleKind handle, ObjectKind kind, long id, Object value) {
    OwnedObject obj = ctx.table().allocateShared(kind, id, value, LendLedger.INITIAL_WEIGHT);
    ctx.allocated(obj); // with a backup, the handle is given once the backup holds the object
    return LendCore.local(ctx, handle, obj, obj.address(), LendLedger.INITIAL_WEIGHT);
  }

  // ------------------------------------------------------------------ tasks

  /**
   * The DSM of the node running the calling task: inside a function passed to {@link #spawn} or
   * {@link #spawnTo}, {@code Dsm.current().self()} is the node it runs on.
   *
   * @throws IllegalStateException outside such a function
   */
  public static Dsm current() {
    DsmNode node = DsmNode.running();
    if (node == null) {
      throw new IllegalStateException(
          "Dsm.current() is for code run by spawn or spawnTo; elsewhere use Dsm.get(system)");
    }
    return get(node.system());
  }

  /**
   * Runs {@code task} on the least-loaded node (this one included) and completes with its result.
   * The task and what it captures are serialized at this call: handles it captures move with it
   * (send clones of shared handles to keep them), every other captured value must be of a
   * registered class, and the code itself must be on every node. The result travels back the same
   * way; a large result is best returned as a {@link DBox} allocated where the task ran.
   *
   * <p>Placement: the Up member with the fewest tasks sent there from this node and not yet ended,
   * plus the tasks it reported running with its last result (if within a second); ties go
   * round-robin. The task runs on the node's task threads ({@code pekko.dsm.tasks.threads}), at
   * most once.
   *
   * @return a stage that fails with {@link RemoteTaskException} if the task threw (its class,
   *     message and trace as text), {@link DsmException} if the node left the cluster first, and
   *     {@link DsmTimeoutException} after {@code pekko.dsm.tasks.timeout}
   * @throws IllegalArgumentException at once if the task cannot be serialized
   */
  public <R> CompletionStage<R> spawn(DCallable<R> task) {
    return spawnOn(ctx.tasks().place(), task);
  }

  /** {@link #spawn} on a chosen node. */
  public <R> CompletionStage<R> spawnOn(NodeId target, DCallable<R> task) {
    Objects.requireNonNull(target, "target");
    byte[] bytes = ctx.shipping().encode(task, "the task");
    return ctx.handOff(
        ctx.tasks()
            .spawn(target, bytes)
            .thenApply(r -> cast(ctx.shipping().value(target, null, r))));
  }

  /**
   * Runs {@code fn} where the box's object lives, under a mutable borrow there: {@code fn} may
   * change the value in place, and the object's color advances afterwards (even if {@code fn}
   * throws, as with {@link DBox#write}). The object does not move; the box stays here and follows
   * the new color. Borrows through this box wait for the run, as for a write.
   *
   * <p>{@code fn} is serialized at this call, as for {@link #spawn}.
   *
   * @return a stage that completes with {@code fn}'s result, or fails as {@link #spawn} does, and
   *     with {@link BorrowConflictException} if references are lent out past the borrow timeout
   */
  public <T, R> CompletionStage<R> spawnTo(DBox<T> box, DFunction<? super T, ? extends R> fn) {
    byte[] bytes = ctx.shipping().encode(fn, "the function");
    return ctx.handOff(box.core.runWhereItLives(bytes, true).thenApply(Dsm::cast));
  }

  /** Runs {@code fn} at the home of the reference's object, under a shared borrow there. */
  public <T, R> CompletionStage<R> spawnTo(DRef<T> ref, DFunction<? super T, ? extends R> fn) {
    byte[] bytes = ctx.shipping().encode(fn, "the function");
    return ctx.handOff(
        HomeTasks.runAtHome(ref.lend, RunMode.SHARED, bytes, "spawnTo").thenApply(Dsm::cast));
  }

  /** Runs {@code fn} at the home of the shared value. */
  public <T, R> CompletionStage<R> spawnTo(DArc<T> arc, DFunction<? super T, ? extends R> fn) {
    byte[] bytes = ctx.shipping().encode(fn, "the function");
    return ctx.handOff(
        HomeTasks.runAtHome(arc.lend, RunMode.SHARED, bytes, "spawnTo").thenApply(Dsm::cast));
  }

  /**
   * Runs {@code fn} at the mutex's home under its lock, as {@link DMutex#update} does: the value is
   * committed if {@code fn} returns and left as it was if {@code fn} throws.
   */
  public <T, R> CompletionStage<R> spawnTo(DMutex<T> mutex, DFunction<? super T, ? extends R> fn) {
    return mutex.updateAsync(fn);
  }

  /** A scope that waits for the tasks spawned through it; see {@link TaskGroup}. */
  public TaskGroup taskGroup() {
    return new TaskGroup(this);
  }

  @SuppressWarnings("unchecked")
  private static <R> R cast(Object value) {
    return (R) value;
  }

  // ------------------------------------------------------------------ vectors

  /**
   * A distributed vector of {@code values}, in chunks of {@code chunkSize} elements, each chunk an
   * object placed on a node by {@code placement}. The values are copied: the list is not kept.
   *
   * @throws IllegalArgumentException if an element's class is not registered, or the shape is bad
   */
  public <T> DVec<T> vec(List<? extends T> values, int chunkSize, DVec.Placement placement) {
    return ctx.awaitTasks(
        VecFactory.ofValues(this, values, chunkSize, placement), null, "build a vector");
  }

  /** {@link #vec(List, int, DVec.Placement)} without blocking. */
  public <T> CompletionStage<DVec<T>> vecAsync(
      List<? extends T> values, int chunkSize, DVec.Placement placement) {
    return ctx.handOff(VecFactory.ofValues(this, values, chunkSize, placement));
  }

  /**
   * A distributed vector of {@code size} elements, element {@code i} being {@code init.apply(i)}
   * computed on the node its chunk is placed on (so large data is built where it will live). {@code
   * init} is serialized at this call, as for {@link #spawn}, and may not capture handles.
   */
  public <T> DVec<T> vec(
      int size, int chunkSize, DFunction<Integer, ? extends T> init, DVec.Placement placement) {
    return ctx.awaitTasks(
        VecFactory.generated(this, size, chunkSize, init, placement), null, "build a vector");
  }

  /** {@link #vec(int, int, DFunction, DVec.Placement)} without blocking. */
  public <T> CompletionStage<DVec<T>> vecAsync(
      int size, int chunkSize, DFunction<Integer, ? extends T> init, DVec.Placement placement) {
    return ctx.handOff(VecFactory.generated(this, size, chunkSize, init, placement));
  }

  /**
   * A distributed vector of {@code size} mutexes, mutex {@code i} holding {@code init.apply(i)} and
   * homed on the node {@code placement} gives it: the buckets of a distributed hash table.
   */
  public <V> DVec<DMutex<V>> mutexVec(
      int size, DFunction<Integer, ? extends V> init, DVec.Placement placement) {
    return ctx.awaitTasks(
        VecFactory.ofMutexes(this, size, init, placement), null, "build a vector");
  }

  /** {@link #mutexVec} without blocking. */
  public <V> CompletionStage<DVec<DMutex<V>>> mutexVecAsync(
      int size, DFunction<Integer, ? extends V> init, DVec.Placement placement) {
    return ctx.handOff(VecFactory.ofMutexes(this, size, init, placement));
  }

  void requireRegistered(Object value) {
    Objects.requireNonNull(value, "a DSM value must not be null");
    Class<?> missing = node.kryo().firstUnregisteredClass(value.getClass());
    if (missing != null) {
      throw new IllegalArgumentException(
          "class "
              + missing.getName()
              + (missing == value.getClass() ? "" : " (in " + value.getClass().getName() + ")")
              + " is not registered with the DSM serializer; add it to "
              + "pekko.dsm.serialization.classes { \""
              + missing.getName()
              + "\" = <id> } on every node, or register it in a DsmSetup");
    }
  }

  /** This node's counters now. */
  public DsmCounters counters() {
    return node.metrics().snapshot();
  }

  /**
   * The one-sided transport this node reads each peer with ({@code shm}, {@code tcp} or {@code
   * rdma}), for the peers it has read so far. Chosen once per peer by {@code pekko.dsm.transport}.
   */
  public java.util.Map<NodeId, String> transports() {
    return node.transportsInUse();
  }

  /**
   * Completes when this node can serve its objects to others: its shard region has registered with
   * the cluster's shard coordinator.
   */
  public CompletionStage<Void> ready() {
    return runtime.ready();
  }

  /** What the handles of this node work with. */
  ClientContext context() {
    return ctx;
  }

  /** The runtime, for the project's own tools (benchmarks, tests). Not a stable API. */
  @InternalApi
  public DsmNode internalNode() {
    return node;
  }
}
