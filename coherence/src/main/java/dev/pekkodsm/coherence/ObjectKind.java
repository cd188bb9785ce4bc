package dev.pekkodsm.coherence;

/**
 * What an object at its home is, which decides the requests it answers. Fixed at allocation, except
 * that a frozen box becomes an {@link #ARC}.
 */
public enum ObjectKind {
  /** Owned by one {@code DBox}: a write moves it to the writer or recolors it in place. */
  BOX,
  /** Immutable, with shared ownership: a {@code DArc}, or a box after {@code freeze()}. */
  ARC,
  /**
   * A {@code DMutex}: the value is a {@link MutexCell}, the lock is the exclusive borrow, and the
   * snapshot is rewritten in place at every unlock.
   */
  MUTEX,
  /** A {@code DAtomicLong}: the value is an {@link AtomicCell}, its snapshot rewritten in place. */
  ATOMIC;

  /**
   * True for objects whose one snapshot slot always holds the latest committed value, with a
   * version instead of a color: readers need only the slot's locator.
   */
  public boolean rewrittenInPlace() {
    return this == MUTEX || this == ATOMIC;
  }

  /** True for objects owned through weighted shares rather than by one box. */
  public boolean sharedOwnership() {
    return this != BOX;
  }
}
