package dev.pekkodsm.memory;

/**
 * A one-sided operation on a sync region did not happen, and why. Thrown rather than returned
 * because every operation returns the word it read: on the hot path (a cell of this host) it is
 * never thrown.
 */
public final class SyncFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final SyncStatus status;

  public SyncFailedException(SyncStatus status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  /** Why the operation did not happen. */
  public SyncStatus status() {
    return status;
  }
}
