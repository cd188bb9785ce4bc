package dev.pekkodsm.serialization;

/**
 * Snapshot or message bytes that failed a check; {@link #status()} says which. No value is ever
 * produced from such bytes.
 */
public final class SnapshotFormatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final DecodeStatus status;

  public SnapshotFormatException(DecodeStatus status, String message, Throwable cause) {
    super(status + ": " + message, cause);
    this.status = status;
  }

  public SnapshotFormatException(DecodeStatus status, String message) {
    this(status, message, null);
  }

  /** The check that failed. */
  public DecodeStatus status() {
    return status;
  }
}
