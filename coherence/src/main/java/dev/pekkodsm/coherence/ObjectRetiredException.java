package dev.pekkodsm.coherence;

/** A request reached an object that is no longer here: moved, dropped or lost. */
public final class ObjectRetiredException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final BorrowState.Phase phase;

  public ObjectRetiredException(BorrowState.Phase phase, String message) {
    super(message, null, false, false);
    this.phase = phase;
  }

  /** What happened to the object. */
  public BorrowState.Phase phase() {
    return phase;
  }
}
