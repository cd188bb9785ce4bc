package dev.pekkodsm.coherence.mutex;

import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.memory.SyncAccess;

/**
 * What the home of mutexes needs from its node: its sync region, its value slots, and the codec of
 * value frames. Implemented by the node over its {@code SyncRegion} and serializer.
 */
public interface MutexStore {

  /** The home's own access to its sync region. */
  SyncAccess region();

  /**
   * The frame of {@code value} as the snapshot of {@code object} at version {@code color}.
   *
   * @throws RuntimeException if the value cannot be serialized
   */
  byte[] frame(Object value, long object, int color);

  /** The value of a checked frame in {@code buffer}. */
  Object decode(ReadBuffer buffer);

  /** A new value slot holding {@code frame}, for frames of up to {@code frameCapacity} bytes. */
  long allocateSlot(byte[] frame, int frameCapacity);

  /** The largest frame a value slot holds. */
  int slotCapacity(long locator);

  /** Frees a value slot no cell names any more. */
  void freeSlot(long locator);

  /** A new cell of {@code kind} for {@code object}. */
  long allocateCell(int kind, long object);

  /** Frees a cell no handle can name any more. */
  void freeCell(long cell);
}
