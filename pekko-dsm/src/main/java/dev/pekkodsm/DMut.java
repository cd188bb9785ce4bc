package dev.pekkodsm;

import dev.pekkodsm.coherence.GlobalAddress;

/**
 * A mutable borrow of a {@link DBox}'s value, for a try-with-resources block. The object lives on
 * this node for the borrow's duration; {@link #close()} ends the borrow and advances the object's
 * color. Not for use by several threads at once.
 *
 * @param <T> the value's type
 */
public final class DMut<T> implements AutoCloseable {
  private final DBox<T>.Access access;

  DMut(DBox<T>.Access access) {
    this.access = access;
  }

  /**
   * The value, for reading and in-place modification.
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public T get() {
    return access.value();
  }

  /** Replaces the value. */
  public void set(T value) {
    access.value();
    access.set(value);
  }

  /** The object's address during the borrow (the color advances when it ends). */
  public GlobalAddress address() {
    return access.address();
  }

  /** Ends the borrow. Idempotent. */
  @Override
  public void close() {
    access.end(true);
  }
}
