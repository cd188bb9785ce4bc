package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.GlobalAddress;

/** What a {@code DMut} guards: a box's mutable borrow, or a mutex's lock. */
public interface Guard {

  /** The value; throws {@link IllegalStateException} once the guard has ended. */
  Object value();

  /** Replaces the value. */
  void set(Object value);

  /** The object's address during the guard. */
  GlobalAddress address();

  /** Ends the guard after a write. Idempotent. */
  void endWrite();
}
