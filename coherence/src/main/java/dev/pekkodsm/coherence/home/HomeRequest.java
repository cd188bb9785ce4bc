package dev.pekkodsm.coherence.home;

import dev.pekkodsm.coherence.AtomicCell;
import dev.pekkodsm.coherence.OwnedObject;

/**
 * A request to the home of one object. Node ids are raw longs, as on the wire. Each request names
 * its handler in {@link HomeProtocol} ({@link #applyTo}), so the protocol has no dispatch chain and
 * a new request cannot be forgotten there.
 *
 * <p>Requests that carry a {@code requestId} or {@code lockId} may be sent again when the answer is
 * late; the home answers a repeat with the first answer.
 */
public sealed interface HomeRequest {

  /** The object's home node. */
  long home();

  /** The object's id within its home. */
  long object();

  /** Serves this request on {@code obj}, which is homed here and in the table. */
  void applyTo(HomeProtocol home, OwnedObject obj, Responder out);

  /**
   * Answers this request for an object that is not (or no longer) here. Most answer with the
   * refusal; some have their own way of saying no.
   */
  default void whenGone(HomeProtocol home, HomeReply.Refused refusal, Responder out) {
    out.reply(refusal);
  }

  /** False for requests about this node's bookkeeping rather than about a live object. */
  default boolean needsObject() {
    return true;
  }

  /**
   * The writer on {@code requester} (not the home) wants the object moved to it, where it will live
   * as {@code newObject}. Granted when no reference is lent and no borrow is active at the home. A
   * repeat with the same {@code newObject} gets the same answer.
   */
  record HandOver(long home, long object, int color, long requester, long newObject)
      implements HomeRequest {
    @Override
    public void applyTo(HomeProtocol home, OwnedObject obj, Responder out) {
      home.handOver(obj, this, out);
    }

    @Override
    public void whenGone(HomeProtocol home, HomeReply.Refused refusal, Responder out) {
      home.handOverGone(this, refusal, out);
    }
  }

  /**
   * The owner on {@code holder} (not the home) lends a shared reference. A retry carries the same
   * {@code requestId} and gets the same lend.
   */
  record Lend(long home, long object, int color, long holder, long requestId)
      implements HomeRequest {
    @Override
    public void applyTo(HomeProtocol home, OwnedObject obj, Responder out) {
      home.lend(obj, this, out);
    }
  }

  /** The holder gave up waiting for lend {@code requestId}: return it if it was granted. */
  record CancelLend(long home, long object, long holder, long requestId) implements HomeRequest {
    @Override
    public void applyTo(HomeProtocol home, OwnedObject obj, Responder out) {
      home.cancelLend(this);
    }

    @Override
    public boolean needsObject() {
      return false;
    }
  }

  /**
   * Is the reference {@code holder} holds to {@code (object, color)} counted here? Asked when the
   * node that sent it left before its adoption could be known to have arrived.
   */
  record Confirm(long home, long object, int color, long holder) implements HomeRequest {
    @Override
    public void applyTo(HomeProtocol home, OwnedObject obj, Responder out) {
      home.confirm(obj, this, out);
    }

    @Override
    public void whenGone(HomeProtocol home, HomeReply.Refused refusal, Responder out) {
      out.reply(new HomeReply.Confirmed(false, refusal.detail()));
    }
  }

  /**
   * The owner on {@code requester} (not the home) freezes the object into shared ownership; the
   * answer is a {@link HomeReply.Lent} whose weight is the requester's first share.
   */
  record Freeze(long home, long object, int color, long requester) implements HomeRequest {
    @Override
    public void applyTo(HomeProtocol home, OwnedObject obj, Responder out) {
      home.freeze(obj, this, out);
    }
  }

  /** An operation on a {@code DAtomicLong}, applied at its home. */
  record AtomicOp(long home, long object, AtomicCell.Op op, long a, long b) implements HomeRequest {
    @Override
    public void applyTo(HomeProtocol home, OwnedObject obj, Responder out) {
      home.atomicOp(obj, this, out);
    }
  }

  /**
   * A node asks for a mutex's lock; {@code lockId} names this lock (a cancellation carries the same
   * id).
   */
  record Lock(long home, long object, long holder, long lockId) implements HomeRequest {
    @Override
    public void applyTo(HomeProtocol home, OwnedObject obj, Responder out) {
      home.lock(obj, this, out);
    }
  }

  /**
   * The holder has the home commit {@code value} (a serialized snapshot payload) and unlock: for a
   * holder that cannot write one-sided, whose value outgrew the mutex's slots, or whose home keeps
   * a backup. {@code lockId} is the lock word the holder holds (the acquisition's token in it), so
   * that a late commit of an acquisition whose lock was taken back, and perhaps taken again by
   * another thread of the same node, is refused; 0 for any acquisition of the node.
   */
  record Unlock(long home, long object, long holder, long lockId, byte[] value)
      implements HomeRequest {
    @Override
    public void applyTo(HomeProtocol home, OwnedObject obj, Responder out) {
      home.unlock(obj, this, out);
    }
  }

  /**
   * The holder of a mutex's lock released it while lockers waited at the home, which now holds it
   * ({@code LockWord.HANDED_OFF}): pass it to the next.
   */
  record HandedOff(long home, long object) implements HomeRequest {
    @Override
    public void applyTo(HomeProtocol home, OwnedObject obj, Responder out) {
      home.handedOff(obj);
    }
  }

  /** The holder gave up waiting for lock {@code lockId}: release it if it was granted. */
  record CancelLock(long home, long object, long holder, long lockId) implements HomeRequest {
    @Override
    public void applyTo(HomeProtocol home, OwnedObject obj, Responder out) {
      home.cancelLock(obj, this);
    }
  }

  /**
   * Runs a serialized function on the object, at its home. {@code color} is the color the caller
   * knows (ignored for a mutex, whose color never changes).
   */
  record RunAt(long home, long object, int color, RunMode mode, byte[] fn) implements HomeRequest {
    @Override
    public void applyTo(HomeProtocol home, OwnedObject obj, Responder out) {
      home.runAt(obj, color, mode, fn, true).thenAccept(out::reply);
    }
  }

  /**
   * Where is the snapshot of the object now? Asked by a reader whose slot was given up (a mutex's
   * or atomic's snapshot outgrew it), and by a box that lost track of its object's color: for a
   * box's object the home publishes the current color first.
   */
  record Where(long home, long object) implements HomeRequest {
    @Override
    public void applyTo(HomeProtocol home, OwnedObject obj, Responder out) {
      home.where(obj, out);
    }
  }

  /** The owner on {@code requester} (not the home) drops the object. */
  record Drop(long home, long object, int color, long requester) implements HomeRequest {
    @Override
    public void applyTo(HomeProtocol home, OwnedObject obj, Responder out) {
      home.drop(obj, this, out);
    }
  }

  /** A reference of {@code weight} lent at {@code color} is given back by {@code holder}. */
  record Release(long home, long object, int color, long holder, long weight)
      implements HomeRequest {
    @Override
    public void applyTo(HomeProtocol home, OwnedObject obj, Responder out) {
      home.release(obj, this);
    }
  }

  /**
   * A handle sent from node {@code from} arrived on node {@code to}. For a reference, its weight is
   * now held by {@code to}; {@code topUp} asks for more weight for it. For a box, {@code to} now
   * owns the object. {@code refId} names the reference on {@code to}, for the answer.
   */
  record Adopt(
      long home,
      long object,
      int color,
      long from,
      long to,
      long weight,
      long refId,
      boolean box,
      boolean topUp)
      implements HomeRequest {
    @Override
    public void applyTo(HomeProtocol home, OwnedObject obj, Responder out) {
      home.adopt(obj, this);
    }

    @Override
    public void whenGone(HomeProtocol home, HomeReply.Refused refusal, Responder out) {
      if (!box) {
        home.revoke(to, refId, refusal.detail());
      }
    }
  }

  /** The writer has copied a large moved value out of the home's arena: free its slot. */
  record Collected(long home, long object, long locator) implements HomeRequest {
    @Override
    public void applyTo(HomeProtocol home, OwnedObject obj, Responder out) {
      home.collected(this);
    }

    @Override
    public boolean needsObject() {
      return false;
    }
  }
}
