package dev.pekkodsm.coherence.mutex;

import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.SyncRegion;

/**
 * What the home of mutexes needs from its node: its sync region, its value slots, and the codec of
 * value frames. Implemented by the node over its {@code SyncRegion} and serializer.
 */
public interface MutexStore {

  /** The home's sync region: its cells and value slots, and its own access to them. */
  SyncRegion region();

  /**
   * The frame of {@code value} as the snapshot of {@code object} at version {@code color}.
   *
   * @throws RuntimeException if the value cannot be serialized
   */
  byte[] frame(Object value, long object, int color);

  /** The value of a checked frame in {@code buffer}. */
  Object decode(ReadBuffer buffer);
}
