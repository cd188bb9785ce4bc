package dev.pekkodsm;

import dev.pekkodsm.coherence.GlobalAddress;

/** The object's home node left the cluster and nothing holds a copy to recover it from. */
public final class ObjectLostException extends DsmException {
  private static final long serialVersionUID = 1L;

  public ObjectLostException(GlobalAddress address, String message) {
    super(address, message);
  }
}
