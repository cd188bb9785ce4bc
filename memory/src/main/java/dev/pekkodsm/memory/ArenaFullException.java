package dev.pekkodsm.memory;

/** The arena has no free slot of the needed size and may not grow another segment. */
public final class ArenaFullException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public ArenaFullException(String message) {
    super(message);
  }
}
