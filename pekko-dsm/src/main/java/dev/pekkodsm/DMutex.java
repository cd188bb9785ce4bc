package dev.pekkodsm;

import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.home.RunMode;
import dev.pekkodsm.internal.ClientContext;
import dev.pekkodsm.internal.MutexCore;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * Shared mutable state: Rust's {@code Arc<Mutex<T>>} across a cluster.
 *
 * <p>{@link #lock()} gives exclusive access through a {@link DMut} guard; lockers from every node
 * are served in the order their requests reach the mutex's home, and wait at most {@code
 * pekko.dsm.borrow-timeout}. On the home node the guard changes the value in place; from another
 * node the value is moved to the locker for the guard's lifetime (one request and one reply) and
 * moved back when the guard closes (one more round trip, which ends when the home has published the
 * new value).
 *
 * <p>{@link #read} is a one-sided read of the value the last unlock committed: it never sends a
 * message to the home and never waits for or blocks a locker. A read sees the last unlock that
 * completed before it started, and never an update in progress.
 *
 * <p>If a node dies holding the lock, the lock is released and the value stays what the last unlock
 * committed. Handles are cloned, sent and dropped like {@link DArc} handles; the mutex is freed
 * when the last handle is dropped. Thread-safe.
 *
 * @param <T> the value's type
 */
public final class DMutex<T> implements AutoCloseable {

  final MutexCore core;

  DMutex(MutexCore core) {
    this.core = core;
  }

  /** The mutex's address; it never changes. */
  public GlobalAddress address() {
    return core.address();
  }

  /**
   * Locks the mutex and returns the guard; closing the guard unlocks.
   *
   * @throws BorrowConflictException if the lock was not granted within the borrow timeout
   */
  public DMut<T> lock() {
    return new DMut<>(ctx().await(core.lock(), address(), "lock", g -> g.endWrite()));
  }

  /** {@link #lock()} without blocking. */
  public CompletionStage<DMut<T>> lockAsync() {
    return ctx().handOff(core.lock().thenApply(DMut::new));
  }

  /**
   * Applies {@code fn} to the value the last unlock committed, read one-sided. The read copies and
   * checks the snapshot; a version this node has decoded before is not decoded again, so {@code fn}
   * gets the value shared by every read of that version on this node, and must not modify it.
   */
  public <R> R read(Function<? super T, ? extends R> fn) {
    Objects.requireNonNull(fn, "fn");
    return ctx().await(readFuture(fn), address(), "read");
  }

  /** {@link #read} without blocking. */
  public <R> CompletionStage<R> readAsync(Function<? super T, ? extends R> fn) {
    Objects.requireNonNull(fn, "fn");
    return ctx().handOff(readFuture(fn));
  }

  @SuppressWarnings("unchecked")
  private <R> CompletableFuture<R> readFuture(Function<? super T, ? extends R> fn) {
    return core.read().thenApply(value -> fn.apply((T) value));
  }

  /**
   * Runs {@code fn} under the lock at the mutex's home, where it may change the value in place, and
   * returns its result: the function travels instead of the value (one request, one reply, wherever
   * the caller is). The value is committed when {@code fn} returns; if {@code fn} throws, the value
   * stays what the last unlock committed. Waits in the same FIFO queue as {@link #lock()}.
   *
   * <p>{@code fn} is serialized at this call, as for {@link Dsm#spawn}; {@code
   * Dsm.current().self()} inside it is the mutex's home. Handles it captures move with it and are
   * let go of when it returns (as a Rust closure drops what it owns), unless it returns them. On
   * the home itself, when the lock is free, the shipped function runs on the calling thread, and
   * the {@link RemoteTaskException} it may cause carries its exception as the cause.
   *
   * @throws RemoteTaskException if {@code fn} threw
   * @throws BorrowConflictException if the lock was not granted within the borrow timeout
   * @throws IllegalArgumentException if {@code fn} cannot be serialized
   */
  public <R> R update(DFunction<? super T, ? extends R> fn) {
    return ctx().awaitTasks(updateFuture(fn, RunMode.LOCKED), address(), "update");
  }

  /** {@link #update} without blocking. */
  public <R> CompletionStage<R> updateAsync(DFunction<? super T, ? extends R> fn) {
    return ctx().handOff(updateFuture(fn, RunMode.LOCKED));
  }

  /**
   * {@link #update} for immutable values: {@code fn}'s result becomes the value, and is returned.
   */
  public T replace(DFunction<? super T, ? extends T> fn) {
    return ctx().awaitTasks(updateFuture(fn, RunMode.LOCKED_REPLACE), address(), "replace");
  }

  /** {@link #replace} without blocking. */
  public CompletionStage<T> replaceAsync(DFunction<? super T, ? extends T> fn) {
    return ctx().handOff(updateFuture(fn, RunMode.LOCKED_REPLACE));
  }

  @SuppressWarnings("unchecked")
  private <R> CompletableFuture<R> updateFuture(DFunction<?, ?> fn, RunMode mode) {
    byte[] bytes = ctx().shipping().encode(fn, "the function");
    return core.update(bytes, mode).thenApply(v -> (R) v);
  }

  /** Another handle to the same mutex, owning a share of it. Costs no message. */
  @Override
  public DMutex<T> clone() {
    return new DMutex<>(new MutexCore(core.lend().copy()));
  }

  /** Gives up this handle's share; the last one dropped anywhere frees the mutex. Idempotent. */
  public void drop() {
    core.lend().release();
  }

  /** Same as {@link #drop()}. */
  @Override
  public void close() {
    drop();
  }

  @Override
  public String toString() {
    return core.lend().toString();
  }

  private ClientContext ctx() {
    return core.lend().context();
  }
}
