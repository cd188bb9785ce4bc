package dev.pekkodsm.internal;

import dev.pekkodsm.DArc;
import dev.pekkodsm.DAtomicLong;
import dev.pekkodsm.DBox;
import dev.pekkodsm.DMutex;
import dev.pekkodsm.DRef;
import dev.pekkodsm.DVec;

/**
 * Turns handles into their wire form and back. Implemented next to the handles (they keep their
 * constructors to themselves); used by the Kryo and Jackson serializers.
 *
 * <p>Exporting has effects: a box's handle dies (its ownership leaves with the message), a
 * reference splits its weight. Importing has effects too: the receiving node tells the home where
 * the handle now is.
 */
public interface HandleCodec {

  /** A {@code DBox} on the wire. {@code from} is the node that sent it. */
  record BoxWire(long home, long object, int color, long locator, int frameBytes, long from) {}

  /** A {@code DRef} on the wire, carrying {@code weight} split off the sender's reference. */
  record RefWire(
      long home, long object, int color, long locator, int frameBytes, long weight, long from) {}

  /**
   * Handles written or read until the scope ends; rolled back if the enclosing message cannot be
   * serialized or deserialized.
   */
  interface Scope {
    /** The message was serialized: the exports stand. */
    void commit();

    /**
     * The message failed: every box written lives again and every reference written is restored;
     * every reference read is released and every box read is dropped (nobody else owns it).
     */
    void rollback();

    /** True if a handle was written or read in this scope so far. */
    boolean touchedHandles();

    /**
     * Lets go of every handle read in this scope that is still live here: a box is dropped, a
     * reference or shared handle released. For what a task captured, once the task is done with it
     * (what it sent on or returned is no longer live here, and is left alone).
     */
    void releaseImported();
  }

  /**
   * A {@code DVec} on the wire: its kind (the ordinal of {@code DVec.Kind}), shape and slots (chunk
   * boxes, chunk references or shared handles, each written by its own serializer).
   */
  record VecWire(int kind, int size, int chunkSize, Object[] slots) {}

  /** Starts tracking handles on this thread. */
  Scope openScope();

  BoxWire exportBox(DBox<?> box);

  DBox<?> importBox(BoxWire wire);

  RefWire exportRef(DRef<?> ref);

  DRef<?> importRef(RefWire wire);

  /** A {@code DArc} travels like a reference: its share of ownership is weight. */
  RefWire exportArc(DArc<?> arc);

  DArc<?> importArc(RefWire wire);

  /** A {@code DAtomicLong} travels like a {@code DArc}. */
  RefWire exportAtomic(DAtomicLong atomic);

  DAtomicLong importAtomic(RefWire wire);

  /** A {@code DMutex} travels like a {@code DArc}. */
  RefWire exportMutex(DMutex<?> mutex);

  DMutex<?> importMutex(RefWire wire);

  /** A {@code DVec} moves with the message: the sender's handle dies, its slots are written. */
  VecWire exportVec(DVec<?> vec);

  /**
   * A {@code DVec} from slots that were read already.
   *
   * @throws IllegalArgumentException if the shape or the slots' types do not match
   */
  DVec<?> importVec(VecWire wire);

  /** Lets go of handles read from a message that turned out unusable (nulls are skipped). */
  void discard(Object[] handles);
}
