package dev.pekkodsm.coherence.home;

/** How a function run where an object lives borrows its value. */
public enum RunMode {
  /** A shared borrow: the value of a reference or a shared value. */
  SHARED,
  /** A mutable borrow of a box's object, in place: its color advances afterwards. */
  WRITE,
  /** Under a mutex's lock, in place: the value is committed afterwards. */
  LOCKED,
  /** Under a mutex's lock: the function's result becomes the value. */
  LOCKED_REPLACE;

  /** True for the modes that run under a mutex's lock. */
  public boolean locked() {
    return this == LOCKED || this == LOCKED_REPLACE;
  }
}
