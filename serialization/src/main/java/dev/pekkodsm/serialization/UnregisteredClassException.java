package dev.pekkodsm.serialization;

/**
 * A value (or something it references) is of a class that is not in the {@link ClassRegistry}.
 * Raised when writing, before anything leaves the node.
 */
public final class UnregisteredClassException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String className;

  public UnregisteredClassException(String className, String message, Throwable cause) {
    super(message, cause);
    this.className = className;
  }

  /** The binary name of the class that is not registered. */
  public String className() {
    return className;
  }
}
