package dev.pekkodsm.coherence;

/**
 * A {@code DMutex} at its home: the value committed by the last unlock, the version of its
 * published snapshot, and who holds the lock from another node, if anyone. The lock itself is the
 * object's exclusive borrow, with its FIFO queue and deadlines.
 *
 * <p>Fields are changed only by the lock's holder on the home node, or by the home on behalf of a
 * remote holder; this cell's monitor orders those hand-offs.
 */
public final class MutexCell {
  private Object value;
  private int version;
  private NodeId remoteHolder;
  private long lockId;

  public MutexCell(Object value) {
    this.value = value;
  }

  /** The value (committed, or being changed by a holder on the home node). */
  public synchronized Object value() {
    return value;
  }

  /** Replaces the value; for the lock's holder. */
  public synchronized void value(Object newValue) {
    value = newValue;
  }

  /** The version of the published snapshot. */
  public synchronized int version() {
    return version;
  }

  /** Publishes the first snapshot, version 0. */
  public synchronized void publishInitial(SnapshotPort snapshots, OwnedObject home) {
    snapshots.republish(home, value, version);
  }

  /** Commits the value: publishes its snapshot under the next version. Caller holds the lock. */
  public synchronized void commit(SnapshotPort snapshots, OwnedObject home) {
    snapshots.republish(home, value, ++version);
  }

  /** Records that {@code holder} holds the lock under {@code id}. */
  public synchronized void lockedBy(NodeId holder, long id) {
    remoteHolder = holder;
    lockId = id;
  }

  /** True if {@code holder} holds the lock under {@code id}. */
  public synchronized boolean heldBy(NodeId holder, long id) {
    return holder.equals(remoteHolder) && lockId == id;
  }

  /**
   * Clears the remote holder; true if {@code holder} held the lock under {@code id}. Exactly one of
   * an unlock, a cancellation and a departure wins this, and only the winner ends the lock.
   */
  public synchronized boolean release(NodeId holder, long id) {
    if (!heldBy(holder, id)) {
      return false;
    }
    remoteHolder = null;
    return true;
  }

  /** Releases the lock if {@code departed} holds it from elsewhere; true if it did. */
  public synchronized boolean releaseIfHeldBy(NodeId departed) {
    return departed.equals(remoteHolder) && release(departed, lockId);
  }
}
