package dev.pekkodsm.memory.rdma;

/**
 * Why RDMA cannot be used in this JVM, as {@link Rdma#unavailabilityCause()} reports it: the
 * message names what is missing (the native {@code libdisni}, an RDMA device, the JVM flag) and how
 * to provide it; the first failure of the probe is the cause, later ones are suppressed.
 */
public final class RdmaUnavailableException extends UnsupportedOperationException {
  private static final long serialVersionUID = 1L;

  RdmaUnavailableException(String message) {
    super(message);
  }

  RdmaUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
