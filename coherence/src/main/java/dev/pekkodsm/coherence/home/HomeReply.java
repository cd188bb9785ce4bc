package dev.pekkodsm.coherence.home;

import java.util.Map;

/** An answer from an object's home (or from a node that ran a task) to a request. */
public sealed interface HomeReply {

  /** The moved object's value, serialized for the move. */
  record HandedOver(byte[] value) implements HomeReply {}

  /**
   * The moved object's value was too large for a message: it waits in the home's arena at {@code
   * locator} for a one-sided read, after which the writer sends {@link HomeRequest.Collected}.
   */
  record HandedOverAt(int color, long locator, int frameBytes) implements HomeReply {}

  /** A lent reference (or a first share of ownership): its weight and where its snapshot is. */
  record Lent(int color, long weight, long locator, int frameBytes) implements HomeReply {}

  /**
   * The answer to {@link HomeRequest.Confirm}: {@code ok} if the reference protects its version.
   */
  record Confirmed(boolean ok, String reason) implements HomeReply {}

  /** The outcome of an {@link HomeRequest.AtomicOp}. */
  record AtomicDone(long value, boolean done) implements HomeReply {}

  /** The lock is the holder's: the committed value and its version. */
  record Locked(byte[] value, int version) implements HomeReply {}

  /** The unlock is done: the new value is published under {@code version}. */
  record Unlocked(int version) implements HomeReply {}

  /** The answer to {@link HomeRequest.Where}: the object's id and color now, and its snapshot. */
  record At(long object, int color, long locator, int frameBytes) implements HomeReply {}

  /** The object was dropped at its home. */
  record Dropped() implements HomeReply {}

  /**
   * How a task ended. If {@code errorType} is empty it returned {@code result} (serialized; empty
   * for null), otherwise it threw. After a {@link RunMode#WRITE} run for a box held elsewhere, the
   * object's new id, color and snapshot; zeros otherwise. {@code load} is how many tasks the node
   * that ran it was running then, for placement.
   */
  record TaskResult(
      byte[] result,
      String errorType,
      String errorMessage,
      String errorTrace,
      long object,
      int color,
      long locator,
      int frameBytes,
      int load)
      implements HomeReply {

    /** True if the task threw. */
    public boolean failed() {
      return !errorType.isEmpty();
    }

    /** The same outcome, with where a box's object is after a write at its home. */
    public TaskResult at(long newObject, int newColor, long newLocator, int newFrameBytes) {
      return new TaskResult(
          result,
          errorType,
          errorMessage,
          errorTrace,
          newObject,
          newColor,
          newLocator,
          newFrameBytes,
          load);
    }
  }

  /** Why a request was refused. */
  enum Reason {
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
  record Refused(
      Reason reason,
      String detail,
      long movedToNode,
      long movedToObject,
      int readers,
      Map<Long, Integer> lent)
      implements HomeReply {

    /** A refusal with no location or holders. */
    public static Refused of(Reason reason, String detail) {
      return new Refused(reason, detail, 0, 0, 0, Map.of());
    }
  }
}
