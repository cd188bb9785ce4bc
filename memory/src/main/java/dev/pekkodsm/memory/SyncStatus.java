package dev.pekkodsm.memory;

/** Why a one-sided operation on a peer's sync region did not happen. */
public enum SyncStatus {
  /** The locator names no cell or slot of the region. */
  OUT_OF_RANGE,
  /** The cell does not belong to the object named (freed, reused, or a forged locator). */
  NOT_THIS_OBJECT,
  /** The frame is larger than the value slot it was written to. */
  TOO_LARGE,
  /** Another writer held the value slot for the whole retry budget. */
  CONTENDED,
  /** The region cannot be reached (not mapped, wrong token, transport down, peer gone). */
  UNAVAILABLE,
  /** The peer did not answer before the operation's deadline. */
  TIMED_OUT
}
