package dev.pekkodsm.coherence.home;

import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.SnapshotPort;
import java.util.concurrent.CompletableFuture;

/**
 * What the {@link HomeProtocol} needs from its node: the arena and the serializer, the task
 * threads, messages to other nodes, and membership. Each method is an effect the protocol decided
 * on; none of them decides anything.
 */
public interface HomePorts extends SnapshotPort {

  /**
   * Serializes a box's object for a move to another node (its nested handles move with it): a
   * {@link HomeReply.HandedOver} carrying the bytes, or, for a value too large for a message, a
   * {@link HomeReply.HandedOverAt} naming an arena slot kept for the writer's one-sided read. The
   * caller holds the exclusive borrow.
   *
   * @throws RuntimeException if the value cannot be serialized
   */
  HomeReply handOverValue(OwnedObject obj);

  /** Frees an arena slot kept for a large move; unknown locators are ignored. */
  void freeMoveSlot(long locator);

  /**
   * Serializes a value as a snapshot payload (no handle may be inside).
   *
   * @throws RuntimeException if it cannot be serialized
   */
  byte[] encodeValue(Object value);

  /**
   * Deserializes a snapshot payload.
   *
   * @throws RuntimeException if the bytes cannot be read
   */
  Object decodeValue(byte[] bytes);

  /**
   * Runs a shipped function on an object whose borrow the caller holds (shared for {@link
   * RunMode#SHARED}, exclusive otherwise), on a task thread; the borrow ends with the run. Never
   * fails: a refusal or the function's error is the answer.
   *
   * @param remote the caller is on another node: after a {@link RunMode#WRITE} the new color is
   *     published for it
   */
  CompletableFuture<HomeReply.TaskResult> runHeld(
      OwnedObject obj, RunMode mode, byte[] fn, boolean remote);

  /**
   * Runs a shipped function on a mutex whose lock the home holds as {@code word}, on a task thread:
   * on the committed value, which is committed again (or replaced by the function's result, for
   * {@link RunMode#LOCKED_REPLACE}) when the function returns, and left as it was if it throws; the
   * lock is released either way. Never fails: the function's error is the answer.
   */
  CompletableFuture<HomeReply.TaskResult> runLocked(
      OwnedObject mutex, long word, RunMode mode, byte[] fn);

  /**
   * Runs {@code work}, which may wait for the backup to hold a change (a commit, an atomic
   * operation), where it does not hold up other requests; by default on the calling thread.
   */
  default void offload(Runnable work) {
    work.run();
  }

  /** Tells the node {@code holder} about its reference (which may be on this node). */
  void notify(NodeId holder, HolderNotice notice);

  /** True if {@code node} has left the cluster for good. */
  boolean isDeparted(NodeId node);

  /** The {@code DBox} that owns {@code obj} is on another node now (for the backup). */
  default void boxHolderChanged(OwnedObject obj) {}

  /** An object was handed over to another node (for the counters). */
  default void movedOut() {}

  /** A reference was lent to another node (for the counters). */
  default void lentOut() {}

  /**
   * An object whose owner left the cluster could not be dropped (references to it never came back);
   * it stays until its node stops.
   */
  default void orphanKept(GlobalAddress address, NodeId departedOwner, Throwable why) {}
}
