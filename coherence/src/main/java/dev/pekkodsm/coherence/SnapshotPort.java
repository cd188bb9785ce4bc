package dev.pekkodsm.coherence;

/**
 * How the core gets an object's value into its home's arena, where other nodes read it one-sided.
 * Implemented by the node over its arena and serializer.
 */
public interface SnapshotPort {

  /**
   * Makes sure the object's current color (for a mutex or an atomic, its latest version) is
   * published, and says where. The caller holds a borrow of the object, so that its value and color
   * do not change meanwhile.
   *
   * @throws RuntimeException if the value cannot be serialized or the arena is full
   */
  Snapshot publish(OwnedObject obj);

  /**
   * Writes {@code value} as the snapshot of an object rewritten in place (a mutex, an atomic) under
   * {@code version}: in its slot if it fits (readers see the old frame or the new one, never a
   * mix), in a new slot otherwise. Calls for one object are serialized by the caller.
   */
  void republish(OwnedObject obj, Object value, int version);
}
