package dev.pekkodsm.coherence.client;

/**
 * The life of a box handle ({@code DBox}) on its node. A handle is live until one of the events
 * below kills it; dead handles stay dead (except a send that failed to serialize, which brings the
 * handle back), and every use of a dead handle is refused with what killed it.
 */
public enum BoxState {
  /** Usable. */
  LIVE,
  /** Ownership moved to the handle that {@code transfer()} returned. */
  TRANSFERRED,
  /** Sent to another node in a message, which owns the object now. */
  SENT,
  /** Frozen into shared ownership by {@code freeze()}. */
  FROZEN,
  /** Dropped; the object is freed. */
  DROPPED,
  /** The object is gone: its home left, or no longer has it. */
  LOST,
  /** Handed back to the box it was transferred from, whose caller gave up waiting. */
  ABANDONED;

  /** What a use of a handle in this state is told. */
  public String why() {
    return switch (this) {
      case LIVE -> "it is live";
      case TRANSFERRED ->
          "ownership was moved by transfer(); use the DBox that transfer() returned";
      case SENT -> "it was sent to another node in a message, which owns it now";
      case FROZEN -> "it was frozen into a DArc by freeze()";
      case DROPPED -> "it was dropped";
      case LOST -> "its object is gone";
      case ABANDONED -> "the transfer() that created it was abandoned";
    };
  }
}
