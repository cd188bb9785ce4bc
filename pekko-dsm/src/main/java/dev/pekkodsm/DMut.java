package dev.pekkodsm;

import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.internal.Guard;

/**
 * Exclusive access to a value for a try-with-resources block: a {@link DBox}'s mutable borrow (the
 * object lives on this node for the borrow's duration; {@link #close()} advances its color) or a
 * {@link DMutex}'s lock ({@link #close()} publishes the value and unlocks). Not for use by several
 * threads at once.
 *
 * @param <T> the value's type
 */
public final class DMut<T> implements AutoCloseable {
  private final Guard access;

  DMut(Guard access) {
    this.access = access;
  }

  /**
   * The value, for reading and in-place modification.
   *
   * @throws IllegalStateException after {@link #close()}
   */
  @SuppressWarnings("unchecked")
  public T get() {
    return (T) access.value();
  }

  /** Replaces the value. */
  public void set(T value) {
    access.value();
    access.set(value);
  }

  /** The object's address during the guard. */
  public GlobalAddress address() {
    return access.address();
  }

  /**
   * Ends the guard. Idempotent.
   *
   * @throws DsmException for a mutex locked from another node, if the home could not be told
   */
  @Override
  public void close() {
    access.endWrite();
  }
}
