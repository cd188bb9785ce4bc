package dev.pekkodsm.coherence;

import dev.pekkodsm.coherence.mutex.MutexQueue;
import dev.pekkodsm.coherence.mutex.OwnedCopy;

/**
 * A {@code DMutex} at its home: the cell of its lock word in the sync region (where its two value
 * slots are named too), the queue of lockers waiting at the home, and the home's own decoded copy
 * for its local lockers. The lock and the value live in the sync region, which lockers on every
 * node change one-sided.
 */
public final class MutexCell {
  private final long cell;
  private final MutexQueue queue;
  private final OwnedCopy owned = new OwnedCopy();

  public MutexCell(long cell, MutexQueue queue) {
    this.cell = cell;
    this.queue = queue;
  }

  /** The locator of the mutex's cell in the home's sync region. */
  public long cell() {
    return cell;
  }

  /** The lockers waiting at the home. */
  public MutexQueue queue() {
    return queue;
  }

  /** The home's decoded copy of the value, for its local lockers. */
  public OwnedCopy owned() {
    return owned;
  }
}
