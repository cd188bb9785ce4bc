package dev.pekkodsm;

import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.internal.LendCore;
import java.util.concurrent.CompletionStage;

/**
 * A shared reference to one version of a distributed object: Rust's {@code &T} across a cluster.
 *
 * <p>While a reference is live, its object cannot be written, moved or dropped, so {@link #get()}
 * always returns the version the reference names. On the object's home {@code get()} returns the
 * live value; elsewhere the first {@code get()} copies the object's snapshot into this node's read
 * cache with a one-sided read (no message to the owner), and every later one returns the cached
 * copy. The returned value must not be modified.
 *
 * <p>References from {@link DBox#share()} may be sent to other nodes inside messages. Sending a
 * reference moves it: the receiver holds it and releases it, and this instance is dead once the
 * message is serialized. To send one and keep one, send {@link #copy()} (to several receivers, a
 * copy each). Until the receiver releases it, the owner cannot write. References from {@link
 * DBox#borrow()} are scoped to a block on this node and cannot be sent.
 *
 * <p>{@link #release()} (or {@link #close()}) gives the reference back; afterwards {@code get()}
 * throws {@link StaleReferenceException}. Thread-safe.
 *
 * @param <T> the value's type
 */
public final class DRef<T> implements AutoCloseable {

  final LendCore lend;

  DRef(LendCore lend) {
    this.lend = lend;
  }

  /** The address of the version this reference names. */
  public GlobalAddress address() {
    return lend.address();
  }

  /**
   * The value. Cheap after the first call on a node: no message, no copy.
   *
   * @throws StaleReferenceException after {@link #release()}, or if the version is gone
   * @throws ObjectLostException if the object's home left before this node read it
   */
  @SuppressWarnings("unchecked")
  public T get() {
    return (T) lend.get();
  }

  /**
   * {@link #get} as a stage, for use inside actors: completes at once when the value is at hand,
   * and never blocks the caller while a peer's arena endpoint is fetched.
   */
  @SuppressWarnings("unchecked")
  public CompletionStage<T> getAsync() {
    return lend.getAsync().thenApply(v -> (T) v);
  }

  /**
   * Another reference to the same version, released independently. Costs no message.
   *
   * @throws StaleReferenceException if this one is released
   * @throws IllegalStateException for a scoped reference from {@link DBox#borrow()}
   */
  public DRef<T> copy() {
    return new DRef<>(lend.copy());
  }

  /**
   * Gives the reference back to its owner. Idempotent.
   *
   * @throws SharedMutationException in debug mode, if the value was modified while shared
   */
  public void release() {
    lend.release();
  }

  /** Same as {@link #release()}. */
  @Override
  public void close() {
    release();
  }

  @Override
  public String toString() {
    return lend.toString();
  }
}
