package dev.pekkodsm;

import dev.pekkodsm.coherence.GlobalAddress;

/**
 * A one-sided read found bytes that failed their checks (checksum, length, class registry). No
 * value was produced from them. Usually a sign of mismatched class registries between nodes or of
 * memory corruption on the owner's host.
 */
public final class CorruptSnapshotException extends DsmException {
  private static final long serialVersionUID = 1L;

  public CorruptSnapshotException(GlobalAddress address, String message, Throwable cause) {
    super(address, message, cause);
  }
}
