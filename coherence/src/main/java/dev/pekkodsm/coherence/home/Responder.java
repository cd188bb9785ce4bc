package dev.pekkodsm.coherence.home;

/**
 * Where the answer to one request goes, and what the home may tell whoever routed the request to
 * it. The answer may come at once or later, from whichever thread grants or expires a wait; it
 * comes at most once.
 */
public interface Responder {

  /** A responder for one-way requests: answers go nowhere. */
  Responder NONE = reply -> {};

  /** Delivers the answer. */
  void reply(HomeReply reply);

  /**
   * The object the request was for has left this node for good (moved or dropped): whatever serves
   * requests for it (an owner entity) may stop. Later requests are answered from the tombstone.
   */
  default void objectLeft() {}
}
