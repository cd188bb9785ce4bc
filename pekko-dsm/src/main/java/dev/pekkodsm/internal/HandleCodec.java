package dev.pekkodsm.internal;

/**
 * Turns handles into their wire form and back; used by the Kryo and Jackson serializers. Handles
 * are passed as the public objects ({@code DBox}, {@code DRef}, ...), which the codec reaches
 * through {@link Facades}.
 *
 * <p>Exporting has effects: a box's handle dies (its ownership leaves with the message), a
 * reference's weight leaves with it. Importing has effects too: the receiving node tells the home
 * where the handle now is. Both are undone if the enclosing message fails ({@link Scope}).
 */
public interface HandleCodec {

  /** A {@code DBox} on the wire. {@code from} is the node that sent it. */
  record BoxWire(long home, long object, int color, long locator, int frameBytes, long from) {}

  /** A handle holding {@code weight} on its object, on the wire. */
  record RefWire(
      long home, long object, int color, long locator, int frameBytes, long weight, long from) {}

  /**
   * A {@code DVec} on the wire: its kind (the ordinal of {@code DVec.Kind}), shape and slots (chunk
   * boxes, chunk references or shared handles, each written by its own serializer).
   */
  record VecWire(int kind, int size, int chunkSize, Object[] slots) {}

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

  /** Starts tracking handles on this thread. */
  Scope openScope();

  /** A box leaves with a message: this handle dies. */
  BoxWire exportBox(Object box);

  /** A box arrives: this node owns the object now. */
  Object importBox(BoxWire wire);

  /** A handle of {@code kind} (a reference or a share of ownership) leaves with its weight. */
  RefWire exportWeighted(Object handle);

  /** A handle of {@code kind} arrives with its weight. */
  Object importWeighted(HandleKind kind, RefWire wire);

  /** A {@code DVec} moves with the message: the sender's handle dies, its slots are written. */
  VecWire exportVec(Object vec);

  /**
   * A {@code DVec} from slots that were read already.
   *
   * @throws IllegalArgumentException if the shape or the slots' types do not match
   */
  Object importVec(VecWire wire);

  /** Lets go of handles read from a message that turned out unusable (nulls are skipped). */
  void discard(Object[] handles);
}
