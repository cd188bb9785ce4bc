package dev.pekkodsm.serialization.internal;

/**
 * Why a graph is being written or read. Handle serializers behave differently per purpose: a {@code
 * DBox} inside a message is an ownership move, inside a shared snapshot it would be a second owner
 * and is refused.
 */
public enum Purpose {
  /** A Pekko message between nodes. */
  MESSAGE,
  /** A read-only snapshot published for one-sided reads. */
  SNAPSHOT,
  /** The value handed over when an object moves to its writer's node. */
  MOVE,
  /**
   * A hash of a value for debug checks: handles inside are described, never exported, and the bytes
   * are never read back.
   */
  FINGERPRINT
}
