package dev.pekkodsm;

import dev.pekkodsm.coherence.GlobalAddress;

/**
 * A {@link DBox} was used after its ownership moved ({@link DBox#transfer()}, or the handle was
 * sent to another node in a message) or after it was dropped. Use the handle that received the
 * ownership.
 */
public final class UseAfterMoveException extends DsmException {
  private static final long serialVersionUID = 1L;

  public UseAfterMoveException(GlobalAddress address, String message) {
    super(address, message);
  }
}
