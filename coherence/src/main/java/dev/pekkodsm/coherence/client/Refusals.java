package dev.pekkodsm.coherence.client;

import dev.pekkodsm.coherence.home.HomeReply;

/** What a handle does when its home refuses a request: the client side's one decision table. */
public final class Refusals {

  /** The handle's reaction to a refusal. */
  public enum Action {
    /** Borrows or references held the object past the borrow timeout: fail, the handle lives. */
    CONFLICT,
    /** The home left the cluster: the handle dies, the object is lost. */
    LOST,
    /** The home no longer has this object or version: the handle dies. */
    GONE,
    /** The home could not serve the request: fail, the handle lives. */
    FAILED
  }

  private Refusals() {}

  /** The reaction to {@code refused}. */
  public static Action decide(HomeReply.Refused refused) {
    return switch (refused.reason()) {
      case CONFLICT -> Action.CONFLICT;
      case LOST -> Action.LOST;
      case MOVED, DROPPED, UNKNOWN, STALE -> Action.GONE;
      case FAILED -> Action.FAILED;
    };
  }
}
