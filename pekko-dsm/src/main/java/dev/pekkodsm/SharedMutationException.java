package dev.pekkodsm;

import dev.pekkodsm.coherence.GlobalAddress;

/**
 * Debug mode ({@code pekko.dsm.debug.detect-shared-mutation = on}) found that a value changed while
 * it was only shared-borrowed: something mutated a value it may only read. Mutate inside {@link
 * DBox#write} instead.
 */
public final class SharedMutationException extends DsmException {
  private static final long serialVersionUID = 1L;

  public SharedMutationException(GlobalAddress address, String message) {
    super(address, message);
  }
}
