package dev.pekkodsm.memory;

/** A transport cannot reach a peer's arena; the message says why. */
public final class TransportUnavailableException extends Exception {
  private static final long serialVersionUID = 1L;

  public TransportUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }

  public TransportUnavailableException(String message) {
    super(message);
  }
}
