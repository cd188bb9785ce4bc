package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.OwnedObject;

/**
 * A {@code DMutex} at its home: the value committed by the last unlock, the version of its
 * published snapshot, and who holds the lock from another node, if anyone. The lock itself is the
 * object's exclusive borrow, with its FIFO queue and deadlines.
 *
 * <p>Fields are changed only by the lock's holder on the home node, or by the home on behalf of a
 * remote holder; the object's monitor orders those hand-offs.
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

  /** Replaces the value; for the lock's holder on the home node. */
  public synchronized void value(Object newValue) {
    value = newValue;
  }

  /** The version of the published snapshot. */
  public synchronized int version() {
    return version;
  }

  /** Publishes the first snapshot, version 0. */
  synchronized void publishInitial(DsmNode node, OwnedObject home) {
    node.republish(home, value, version);
  }

  /** Commits the value: publishes its snapshot under the next version. Caller holds the lock. */
  public synchronized void commit(DsmNode node, OwnedObject home) {
    node.republish(home, value, ++version);
  }

  /** Records that {@code holder} holds the lock under {@code id}. */
  synchronized void lockedBy(NodeId holder, long id) {
    remoteHolder = holder;
    lockId = id;
  }

  /** True if {@code holder} holds the lock under {@code id}. */
  synchronized boolean heldBy(NodeId holder, long id) {
    return holder.equals(remoteHolder) && lockId == id;
  }

  /** Clears the remote holder; true if {@code holder} held the lock under {@code id}. */
  synchronized boolean release(NodeId holder, long id) {
    if (!heldBy(holder, id)) {
      return false;
    }
    remoteHolder = null;
    return true;
  }

  /** The node holding the lock from elsewhere, or null. */
  synchronized NodeId remoteHolder() {
    return remoteHolder;
  }

  /** The remote holder's lock id. */
  synchronized long lockId() {
    return lockId;
  }
}
