package dev.pekkodsm;

import dev.pekkodsm.coherence.GlobalAddress;

/** What a {@link DMut} guards: a box's mutable borrow, or a mutex's lock. */
interface Guarded<T> {

  /** The value; throws {@link IllegalStateException} once the guard has ended. */
  T value();

  /** Replaces the value. */
  void set(T value);

  /** The object's address during the guard. */
  GlobalAddress address();

  /** Ends the guard after a write. Idempotent. */
  void endWrite();
}
