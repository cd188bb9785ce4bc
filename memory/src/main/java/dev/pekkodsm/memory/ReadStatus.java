package dev.pekkodsm.memory;

/**
 * The outcome of a one-sided read. Expected outcomes, not exceptions: the caller turns them into
 * the right user-facing error.
 */
public enum ReadStatus {
  /** A consistent, checksummed frame of the requested object and color is in the buffer. */
  OK,
  /** The slot holds no snapshot: the object was freed (dropped, moved or recolored). */
  FREED,
  /** The slot holds a valid snapshot of another object or color: it was reused. */
  STALE,
  /** A stable read of the slot failed its checks (bad checksum, impossible length). */
  CORRUPT,
  /** The slot was being rewritten on every attempt within the retry budget. */
  CONTENDED,
  /** The locator points outside the peer's arena. */
  OUT_OF_RANGE,
  /** The peer's arena cannot be reached (not mapped, wrong token, peer gone, connection lost). */
  UNAVAILABLE,
  /** The peer did not answer before the read's deadline. */
  TIMED_OUT
}
