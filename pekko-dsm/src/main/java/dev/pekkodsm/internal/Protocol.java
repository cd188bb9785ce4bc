package dev.pekkodsm.internal;

import dev.pekkodsm.memory.PeerEndpoint;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The messages the DSM's nodes exchange. Node ids are raw longs on the wire. All of them are
 * serialized by {@link DsmSerializer}.
 *
 * <p>A move is exactly two of these on the wire: {@link HandOver} from the writer's node to the
 * object's home, {@link HandedOver} back.
 */
public final class Protocol {

  private Protocol() {}

  /** Every DSM protocol message; bound to {@link DsmSerializer} in {@code reference.conf}. */
  public interface DsmMessage {}

  /** A request to the owner entity of one object. */
  public interface OwnerCommand extends DsmMessage {
    /** The object's home node. */
    long home();

    /** The object's id within its home. */
    long object();
  }

  /** An owner entity's answer to a request with a {@code replyTo}. */
  public interface Reply extends DsmMessage {}

  /** A message to a node's DSM actor. */
  public interface NodeCommand extends DsmMessage {}

  /**
   * The writer on {@code requester} wants the object moved to it, where it will live as {@code
   * newObject}. Granted when no reference is lent and no borrow is active at the home.
   */
  public record HandOver(
      long home, long object, int color, long requester, long newObject, ActorRef<Reply> replyTo)
      implements OwnerCommand {}

  /**
   * The owner on {@code holder} (not the home) lends a shared reference. A retry carries the same
   * {@code requestId} and gets the same lend.
   */
  public record Lend(
      long home, long object, int color, long holder, long requestId, ActorRef<Reply> replyTo)
      implements OwnerCommand {}

  /**
   * Is the reference {@code holder} holds to {@code (object, color)} counted here? Asked when the
   * node that sent it left before the adoption could be known to have arrived.
   */
  public record Confirm(long home, long object, int color, long holder, ActorRef<Reply> replyTo)
      implements OwnerCommand {}

  /** The answer to {@link Confirm}: {@code ok} if the reference protects its version. */
  public record Confirmed(boolean ok, String reason) implements Reply {}

  /** The holder gave up waiting for lend {@code requestId}: return it if it was granted. */
  public record CancelLend(long home, long object, long holder, long requestId)
      implements OwnerCommand {}

  /**
   * The owner on {@code requester} (not the home) freezes the object into shared ownership; the
   * answer is a {@link Lent} whose weight is the requester's first share.
   */
  public record Freeze(long home, long object, int color, long requester, ActorRef<Reply> replyTo)
      implements OwnerCommand {}

  /** An operation on a {@code DAtomicLong}, applied at its home. */
  public record AtomicOp(
      long home, long object, AtomicCell.Op op, long a, long b, ActorRef<Reply> replyTo)
      implements OwnerCommand {}

  /** The outcome of an {@link AtomicOp}. */
  public record AtomicDone(long value, boolean done) implements Reply {}

  /**
   * A node asks for a mutex's lock; {@code lockId} names this lock (a retry or a cancellation
   * carries the same id).
   */
  public record Lock(long home, long object, long holder, long lockId, ActorRef<Reply> replyTo)
      implements OwnerCommand {}

  /** The lock is the holder's: the committed value and its version. */
  public record Locked(byte[] value, int version) implements Reply {}

  /** The holder commits {@code value} and unlocks. */
  public record Unlock(
      long home, long object, long holder, long lockId, byte[] value, ActorRef<Reply> replyTo)
      implements OwnerCommand {}

  /** The unlock is done: the new value is published under {@code version}. */
  public record Unlocked(int version) implements Reply {}

  /** The holder gave up waiting for lock {@code lockId}: release it if it was granted. */
  public record CancelLock(long home, long object, long holder, long lockId)
      implements OwnerCommand {}

  /** Runs a task on the receiving node (a serialized {@code DCallable}). */
  public record Spawn(byte[] task, ActorRef<Reply> replyTo) implements NodeCommand {}

  /** How a function run where an object lives borrows the value. */
  public enum RunMode {
    /** A shared borrow: the value of a reference or a shared value. */
    SHARED,
    /** A mutable borrow of a box's object, in place: its color advances afterwards. */
    WRITE,
    /** Under a mutex's lock, in place: the value is committed afterwards. */
    LOCKED,
    /** Under a mutex's lock: the function's result becomes the value. */
    LOCKED_REPLACE
  }

  /**
   * Runs a serialized function on an object, at its home. {@code color} is the color the caller
   * knows (ignored for a mutex, whose color never changes).
   */
  public record RunAt(
      long home, long object, int color, RunMode mode, byte[] fn, ActorRef<Reply> replyTo)
      implements OwnerCommand {}

  /**
   * How a task ended. If {@code errorType} is empty it returned {@code result} (serialized; empty
   * for null), otherwise it threw. After a {@link RunMode#WRITE} run for a box held elsewhere, the
   * object's new id, color and snapshot; zeros otherwise. {@code load} is how many tasks the node
   * that ran it was running then, for placement.
   */
  public record TaskResult(
      byte[] result,
      String errorType,
      String errorMessage,
      String errorTrace,
      long object,
      int color,
      long locator,
      int frameBytes,
      int load)
      implements Reply {

    public boolean failed() {
      return !errorType.isEmpty();
    }
  }

  /**
   * Where is the snapshot of {@code object} now? Asked by a reader whose slot was given up (a
   * mutex's or atomic's snapshot outgrew it), and by a box that lost track of its object's color (a
   * task on it whose answer did not arrive): for a plain object the home publishes the current
   * color first.
   */
  public record Where(long home, long object, ActorRef<Reply> replyTo) implements OwnerCommand {}

  /** The answer to {@link Where}: the object's id and color now, and its snapshot. */
  public record At(long object, int color, long locator, int frameBytes) implements Reply {}

  /** The owner on {@code requester} (not the home) drops the object. */
  public record Drop(long home, long object, int color, long requester, ActorRef<Reply> replyTo)
      implements OwnerCommand {}

  /** A reference of {@code weight} lent at {@code color} is given back by {@code holder}. */
  public record Release(long home, long object, int color, long holder, long weight)
      implements OwnerCommand {}

  /**
   * A handle sent from node {@code from} arrived on node {@code to}. For a reference, its weight is
   * now held by {@code to}; {@code topUp} asks for more weight for it. For a box, {@code to} now
   * owns the object. {@code refId} names the reference on {@code to}, for the answer.
   */
  public record Adopt(
      long home,
      long object,
      int color,
      long from,
      long to,
      long weight,
      long refId,
      boolean box,
      boolean topUp)
      implements OwnerCommand {}

  /** The writer has copied a large moved value out of the home's arena: free its slot. */
  public record Collected(long home, long object, long locator) implements OwnerCommand {}

  /** The moved object's value, serialized for the move. */
  public record HandedOver(byte[] value) implements Reply {}

  /**
   * The moved object's value was too large for a message: it waits in the home's arena at {@code
   * locator} for a one-sided read, after which the writer sends {@link Collected}.
   */
  public record HandedOverAt(int color, long locator, int frameBytes) implements Reply {}

  /** A lent reference: its weight and where its snapshot is. */
  public record Lent(int color, long weight, long locator, int frameBytes) implements Reply {}

  /** The object was dropped at its home. */
  public record Dropped() implements Reply {}

  /** Why a request was refused. */
  public enum Reason {
    /** The object moved to another node ({@code movedToNode}, {@code movedToObject}). */
    MOVED,
    /** The object was dropped. */
    DROPPED,
    /** The object's home left the cluster. */
    LOST,
    /** Borrows or references did not end within the borrow timeout. */
    CONFLICT,
    /** The request named a color the object no longer has. */
    STALE,
    /** The home never had such an object (or forgot its tombstone). */
    UNKNOWN,
    /** The home failed to serve the request (a serialization error, a full arena). */
    FAILED
  }

  /**
   * A refused request. For {@link Reason#CONFLICT}, {@code readers} and {@code lent} say who held
   * the object.
   */
  public record Refused(
      Reason reason,
      String detail,
      long movedToNode,
      long movedToObject,
      int readers,
      Map<Long, Integer> lent)
      implements Reply {

    public static Refused of(Reason reason, String detail) {
      return new Refused(reason, detail, 0, 0, 0, Map.of());
    }
  }

  /**
   * An arbitrary value carried to another node in a message (its handles travel as handles), used
   * by {@code LocalCluster.send} and the tour.
   */
  public record Carried(long id, Object payload) implements DsmMessage {}

  /** Asks a node for the endpoint of its arena. */
  public record GetEndpoint(ActorRef<EndpointInfo> replyTo) implements NodeCommand {}

  /**
   * Where and how a node's arena can be read (host identity, arena files, tcp and RDMA addresses)
   * and the fingerprint of its class registry.
   */
  public record EndpointInfo(long node, PeerEndpoint endpoint, long registryFingerprint)
      implements DsmMessage {}

  /** More weight for reference {@code refId} to {@code (home, object, color)}. */
  public record ToppedUp(long refId, long home, long object, int color, long weight)
      implements NodeCommand {}

  /** The home refused to adopt reference {@code refId}: it is stale. */
  public record Revoked(long refId, String reason) implements NodeCommand {}
}
