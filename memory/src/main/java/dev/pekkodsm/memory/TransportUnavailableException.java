package dev.pekkodsm.memory;

/** A transport cannot reach a peer's arena; the message says why. */
public final class TransportUnavailableException extends Exception {
  private static final long serialVersionUID = 1L;

  private final boolean mayHaveArrived;

  public TransportUnavailableException(String message, Throwable cause) {
    super(message, cause);
    this.mayHaveArrived = false;
  }

  public TransportUnavailableException(String message) {
    this(message, false);
  }

  /**
   * @param mayHaveArrived true if what was sent may have reached the peer and been acted on (no
   *     answer in time, or the connection broke after it was sent)
   */
  public TransportUnavailableException(String message, boolean mayHaveArrived) {
    super(message);
    this.mayHaveArrived = mayHaveArrived;
  }

  /**
   * True if the request may have reached the peer and been acted on; false if it surely did not.
   */
  public boolean mayHaveArrived() {
    return mayHaveArrived;
  }
}
