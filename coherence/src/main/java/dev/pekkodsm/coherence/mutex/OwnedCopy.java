package dev.pekkodsm.coherence.mutex;

/**
 * A node's own decoded copy of a mutex's value, for its lockers: valid while the committed version
 * is the one it was decoded (or committed) at, so consecutive locks from one node neither read nor
 * decode the value again. Used only by the lock's holder, so the lock word's exchanges order every
 * access; never shared with readers, who may not see a value being changed.
 */
public final class OwnedCopy {
  private int color;
  private Object value;
  private boolean valid;

  /** The copy if it is of version {@code color}, else null. */
  public Object at(int color) {
    return valid && this.color == color ? value : null;
  }

  /** The version of the copy (0 to 2^32 - 1), or {@link Long#MIN_VALUE} if there is none. */
  public long color() {
    return valid ? color & 0xFFFF_FFFFL : Long.MIN_VALUE;
  }

  /** Keeps {@code value} as the copy of version {@code color}. */
  public void keep(int color, Object value) {
    this.color = color;
    this.value = value;
    this.valid = true;
  }

  /** Forgets the copy (it may have been changed by a commit that did not happen). */
  public void forget() {
    valid = false;
    value = null;
  }
}
