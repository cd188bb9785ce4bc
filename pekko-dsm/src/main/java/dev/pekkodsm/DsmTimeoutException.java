package dev.pekkodsm;

import dev.pekkodsm.coherence.GlobalAddress;

/**
 * A request to another node got no answer within {@code pekko.dsm.ask-timeout}. The node may be
 * unreachable; the operation had no effect here and can be retried.
 */
public final class DsmTimeoutException extends DsmException {
  private static final long serialVersionUID = 1L;

  public DsmTimeoutException(GlobalAddress address, String message, Throwable cause) {
    super(address, message, cause);
  }
}
