package dev.pekkodsm.coherence.home;

/** What a home tells the node holding one of its references, unasked. */
public sealed interface HolderNotice {

  /** More weight for reference {@code refId} to {@code (home, object, color)}. */
  record ToppedUp(long refId, long home, long object, int color, long weight)
      implements HolderNotice {}

  /** The home refused to count reference {@code refId}: it is stale. */
  record Revoked(long refId, String reason) implements HolderNotice {}
}
