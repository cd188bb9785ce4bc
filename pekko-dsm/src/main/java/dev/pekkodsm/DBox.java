package dev.pekkodsm;

import dev.pekkodsm.coherence.BorrowState.Kind;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.internal.BoxCore;
import dev.pekkodsm.internal.ClientContext;
import dev.pekkodsm.internal.LendCore;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The unique owner of a distributed object: Rust's {@code Box<T>} across a cluster.
 *
 * <p>Reads ({@link #read}, {@link #borrow}) are shared borrows: many at once, on any node. On the
 * object's home they touch the live value; elsewhere they read a cached copy fetched by a one-sided
 * read. Writes ({@link #write}, {@link #replace}, {@link #borrowMut}) are exclusive: if the object
 * lives on another node it is first moved here, under a new address. A write waits for every lent
 * {@link DRef} to be released (up to {@code pekko.dsm.borrow-timeout}), then fails with {@link
 * BorrowConflictException}.
 *
 * <p>Ownership moves with {@link #transfer()} or by sending the box to another node inside a
 * message; either way this handle dies, and using it afterwards throws {@link
 * UseAfterMoveException}. {@link #drop()} (or {@link #close()}) frees the object.
 *
 * <p>Thread-safe: concurrent borrows through one box follow the same rules as borrows through
 * different boxes. Blocking methods run the function on the calling thread; their {@code ...Async}
 * twins never block and are the ones to use inside actors. Values must not be null.
 *
 * @param <T> the value's type; it must be registered with the DSM serializer if it ever leaves its
 *     node
 */
public final class DBox<T> implements AutoCloseable {

  final BoxCore core;

  DBox(BoxCore core) {
    this.core = core;
  }

  /**
   * The object's current address. Its node is where the object lives now ({@code
   * box.address().node().equals(dsm.self())} means "homed here"); it changes when a write moves the
   * object here, and its color changes with every write.
   *
   * @throws UseAfterMoveException if this handle is dead
   */
  public GlobalAddress address() {
    return core.address();
  }

  /** True if the object lives on this node (reads and writes need no message). */
  public boolean isLocal() {
    return core.isLocal();
  }

  /**
   * Runs {@code fn} under a shared borrow of the value and returns its result. {@code fn} must not
   * modify the value.
   *
   * @throws UseAfterMoveException if this handle is dead
   * @throws BorrowConflictException if a mutable borrow did not end within the borrow timeout
   * @throws ObjectLostException if the object's home left the cluster
   */
  public <R> R read(Function<? super T, ? extends R> fn) {
    Objects.requireNonNull(fn, "fn");
    BoxCore.Access a = core.access(Kind.SHARED, "read");
    try {
      return fn.apply(value(a));
    } finally {
      a.end(false);
    }
  }

  /** {@link #read} without blocking; {@code fn} runs on the caller if the value is at hand. */
  public <R> CompletionStage<R> readAsync(Function<? super T, ? extends R> fn) {
    Objects.requireNonNull(fn, "fn");
    return run(core.accessAsync(Kind.SHARED, "read"), a -> fn.apply(value(a)), false);
  }

  /**
   * Runs {@code fn} under a mutable borrow of the value (moving the object here first if it lives
   * elsewhere) and returns its result. When {@code fn} returns, the object's color advances: copies
   * of the old version can no longer be reached.
   *
   * @throws BorrowConflictException if lent references or borrows did not end within the borrow
   *     timeout
   */
  public <R> R write(Function<? super T, ? extends R> fn) {
    Objects.requireNonNull(fn, "fn");
    BoxCore.Access a = core.access(Kind.EXCLUSIVE, "write");
    try {
      return fn.apply(value(a));
    } finally {
      a.end(true);
    }
  }

  /** {@link #write} without blocking. */
  public <R> CompletionStage<R> writeAsync(Function<? super T, ? extends R> fn) {
    Objects.requireNonNull(fn, "fn");
    return run(core.accessAsync(Kind.EXCLUSIVE, "write"), a -> fn.apply(value(a)), true);
  }

  /** Replaces the value with {@code fn(oldValue)}: the mutable borrow for immutable values. */
  public void replace(UnaryOperator<T> fn) {
    Objects.requireNonNull(fn, "fn");
    BoxCore.Access a = core.access(Kind.EXCLUSIVE, "replace");
    try {
      a.set(fn.apply(value(a)));
    } finally {
      a.end(true);
    }
  }

  /** {@link #replace} without blocking. */
  public CompletionStage<Void> replaceAsync(UnaryOperator<T> fn) {
    Objects.requireNonNull(fn, "fn");
    return run(
        core.accessAsync(Kind.EXCLUSIVE, "replace"),
        a -> {
          a.set(fn.apply(value(a)));
          return null;
        },
        true);
  }

  /**
   * A shared borrow scoped to a try-with-resources block. The reference stays on this node (use
   * {@link #share()} for one that may be sent elsewhere).
   */
  public DRef<T> borrow() {
    return new DRef<>(core.access(Kind.SHARED, "borrow").scopedRef());
  }

  /** {@link #borrow} without blocking. */
  public CompletionStage<DRef<T>> borrowAsync() {
    return ctx()
        .handOff(core.accessAsync(Kind.SHARED, "borrow").thenApply(a -> new DRef<>(a.scopedRef())));
  }

  /**
   * A mutable borrow scoped to a try-with-resources block. The object moves here first if it lives
   * elsewhere; closing the guard ends the borrow and advances the color.
   */
  public DMut<T> borrowMut() {
    return new DMut<>(core.access(Kind.EXCLUSIVE, "borrowMut"));
  }

  /** {@link #borrowMut} without blocking. */
  public CompletionStage<DMut<T>> borrowMutAsync() {
    return ctx().handOff(core.accessAsync(Kind.EXCLUSIVE, "borrowMut").thenApply(DMut::new));
  }

  /**
   * Lends a shared reference. It may be sent to any node inside a message, and read there with
   * one-sided reads; the owner cannot write until every reference (and every copy sent on) is
   * released.
   */
  public DRef<T> share() {
    return new DRef<>(ctx().await(core.share(), core.addressOrNull(), "share", LendCore::release));
  }

  /** {@link #share} without blocking. */
  public CompletionStage<DRef<T>> shareAsync() {
    return ctx().handOff(core.share().thenApply(DRef::new));
  }

  /**
   * Moves ownership to a new handle, which is returned; this one is dead from now on. No data
   * moves. Like a Rust move, it waits until no reference lent by this box is out.
   */
  public DBox<T> transfer() {
    return new DBox<>(
        ctx()
            .await(
                core.transfer(),
                core.addressOrNull(),
                "transfer",
                successor -> successor.returnOwnershipTo(core)));
  }

  /** {@link #transfer} without blocking. */
  public CompletionStage<DBox<T>> transferAsync() {
    return ctx().handOff(core.transfer().thenApply(DBox::new));
  }

  /**
   * Turns this box's object into an immutable value with shared ownership, without copying it: this
   * box is dead afterwards, and the returned handle owns the value (until the last handle is
   * dropped). Like a write, it waits for lent references and borrows to end. The object stays on
   * its home node.
   *
   * @throws BorrowConflictException if references or borrows did not end within the timeout
   */
  public DArc<T> freeze() {
    return new DArc<>(
        ctx().await(core.freeze(), core.addressOrNull(), "freeze", LendCore::release));
  }

  /** {@link #freeze} without blocking. */
  public CompletionStage<DArc<T>> freezeAsync() {
    return ctx().handOff(core.freeze().thenApply(DArc::new));
  }

  /**
   * Frees the object at its home. Waits until no reference is lent; dropping an object whose home
   * has left the cluster succeeds (there is nothing left to free).
   */
  public void drop() {
    ctx().await(core.drop(), core.addressOrNull(), "drop");
  }

  /** {@link #drop} without blocking. */
  public CompletionStage<Void> dropAsync() {
    return ctx().handOff(core.drop());
  }

  /** Drops the object, unless this handle is already dead (moved or dropped), then nothing. */
  @Override
  public void close() {
    if (!core.isDead()) {
      drop();
    }
  }

  @Override
  public String toString() {
    return core.toString();
  }

  // ------------------------------------------------------------------ plumbing

  private ClientContext ctx() {
    return core.context();
  }

  @SuppressWarnings("unchecked")
  private T value(BoxCore.Access a) {
    return (T) a.value();
  }

  /** Runs {@code body} under a borrow, on the caller if granted at once, else when granted. */
  private <R> CompletionStage<R> run(
      CompletableFuture<BoxCore.Access> access, Function<BoxCore.Access, R> body, boolean wrote) {
    Function<BoxCore.Access, R> guarded =
        a -> {
          try {
            return body.apply(a);
          } finally {
            a.end(wrote);
          }
        };
    if (access.isDone() && !access.isCompletedExceptionally()) {
      try {
        return CompletableFuture.completedFuture(guarded.apply(access.join()));
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    return ctx().handOff(access.thenApplyAsync(guarded, ctx().executor()));
  }
}
