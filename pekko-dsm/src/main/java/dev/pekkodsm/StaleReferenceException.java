package dev.pekkodsm;

import dev.pekkodsm.coherence.GlobalAddress;

/**
 * A {@link DRef} was used after {@link DRef#release()}, or names a version of its object that no
 * longer exists. The DSM never returns stale data in its place: ask the owner for a new reference.
 */
public final class StaleReferenceException extends DsmException {
  private static final long serialVersionUID = 1L;

  public StaleReferenceException(GlobalAddress address, String message) {
    super(address, message);
  }
}
