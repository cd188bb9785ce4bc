package dev.pekkodsm;

import dev.pekkodsm.coherence.GlobalAddress;

/**
 * The base of every error the DSM reports. Subtypes name what a caller can act on; the message says
 * which object, what happened, and what to do.
 */
public class DsmException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient GlobalAddress address;

  public DsmException(GlobalAddress address, String message, Throwable cause) {
    super(message, cause);
    this.address = address;
  }

  public DsmException(GlobalAddress address, String message) {
    this(address, message, null);
  }

  /** The address of the object concerned, or null if none. */
  public GlobalAddress address() {
    return address;
  }
}
