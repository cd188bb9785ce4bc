package dev.pekkodsm;

import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.internal.LendCore;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * An immutable value with shared ownership: Rust's {@code Arc<T>} across a cluster.
 *
 * <p>Every handle owns a share of the value. {@link #clone()} makes another handle without a
 * message; a handle sent to another node inside a message moves there (send a clone to keep one).
 * Every node reads the value through its read cache: the live value on the home, a copy fetched by
 * one one-sided read anywhere else, then no more reads and no messages. The value is freed at its
 * home when the last handle anywhere is dropped; the shares of a node that leaves the cluster are
 * given back for it.
 *
 * <p>Created with {@link Dsm#arc(Object)}, or from a box with {@link DBox#freeze()}. The value must
 * not be modified. Thread-safe.
 *
 * @param <T> the value's type
 */
public final class DArc<T> implements AutoCloseable {

  final LendCore lend;

  DArc(LendCore lend) {
    this.lend = lend;
  }

  /** The value's address; it never changes. */
  public GlobalAddress address() {
    return lend.address();
  }

  /**
   * The value. Cheap after the first call on a node: no message, no copy.
   *
   * @throws StaleReferenceException after {@link #drop()} or after this handle was sent away
   * @throws ObjectLostException if the home left before this node read the value
   */
  @SuppressWarnings("unchecked")
  public T get() {
    return (T) lend.get();
  }

  /** {@link #get()} as a stage, for use inside actors; never blocks. */
  @SuppressWarnings("unchecked")
  public CompletionStage<T> getAsync() {
    return lend.getAsync().thenApply(v -> (T) v);
  }

  /** Applies {@code fn} to the value. */
  public <R> R read(Function<? super T, ? extends R> fn) {
    Objects.requireNonNull(fn, "fn");
    return fn.apply(get());
  }

  /** Another handle to the same value, owning a share of it. Costs no message. */
  @Override
  public DArc<T> clone() {
    return new DArc<>(lend.copy());
  }

  /**
   * Gives up this handle's share. The last share dropped anywhere frees the value at its home.
   * Idempotent.
   */
  public void drop() {
    lend.release();
  }

  /** Same as {@link #drop()}. */
  @Override
  public void close() {
    drop();
  }

  @Override
  public String toString() {
    return lend.toString();
  }
}
