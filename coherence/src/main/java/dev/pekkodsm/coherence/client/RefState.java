package dev.pekkodsm.coherence.client;

/**
 * The life of a reference (or share of ownership) on the node that holds it: Rust's {@code &T} and
 * {@code Arc<T>} as a run-time state machine. Only {@link #LIVE} and {@link #SUSPECT} hold weight;
 * every other state is final, and a read in one of them is refused with the reason it names.
 *
 * <pre>
 * LIVE ──send──▶ SENT ──send failed──▶ LIVE
 *  │ ▲  ╲
 *  │ │   ╲──sender left──▶ SUSPECT ──home confirms──▶ LIVE
 *  │ │                       │ ╲──home refuses──▶ REVOKED
 *  │ └──────────────────────┘(send, release as from LIVE)
 *  ├──release──▶ RELEASED
 *  └──home revokes──▶ REVOKED
 * </pre>
 */
public enum RefState {
  /** Usable; holds weight. */
  LIVE,
  /** Given back by its holder. */
  RELEASED,
  /** Refused by the home: its version no longer exists there. */
  REVOKED,
  /** Sent to another node in a message, which holds its weight now. */
  SENT,
  /**
   * Sent by a node that then left the cluster: the home may have reclaimed its weight with that
   * node's before learning it arrived here, so the home must confirm it before it is read again.
   */
  SUSPECT;

  /** True while the reference holds weight: it may be read (once confirmed), copied, sent. */
  public boolean holdsWeight() {
    return this == LIVE || this == SUSPECT;
  }

  /** The state after a release; null if there is nothing to release (already final). */
  public RefState release() {
    return holdsWeight() ? RELEASED : null;
  }

  /** The state after the reference was written into a message. */
  public RefState send() {
    if (!holdsWeight()) {
      throw new IllegalStateException("a " + this + " reference cannot be sent");
    }
    return SENT;
  }

  /** The state after a send that failed to serialize: the reference is back. */
  public RefState sendFailed() {
    return this == SENT ? LIVE : this;
  }

  /** The state after the home refused the reference. */
  public RefState revoke() {
    return holdsWeight() ? REVOKED : this;
  }

  /**
   * The state after a node left the cluster.
   *
   * @param sentByIt the reference was sent by the departed node
   * @param homeLeft the departed node is the object's home (then no newer version can exist, and
   *     the reference needs no confirmation)
   */
  public RefState nodeLeft(boolean sentByIt, boolean homeLeft) {
    return this == LIVE && sentByIt && !homeLeft ? SUSPECT : this;
  }

  /** The state after the home answered a confirmation. */
  public RefState confirmed(boolean ok) {
    if (this != SUSPECT) {
      return this;
    }
    return ok ? LIVE : REVOKED;
  }

  /** Why a reference in this state cannot be read, for the exception's message. */
  public String whyUnreadable(String revokedBecause) {
    return switch (this) {
      case RELEASED -> "it was released";
      case SENT ->
          "it was sent to another node in a message, which holds it now (send copy() to keep one)";
      case REVOKED -> "its home refused it (" + revokedBecause + ")";
      case SUSPECT -> "its sender left the cluster and its home has not confirmed it yet";
      case LIVE -> throw new IllegalStateException("a live reference is readable");
    };
  }
}
