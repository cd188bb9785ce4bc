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
   * Puts back the value a mutex's last unlock committed (decoded from its published snapshot),
   * after a change that failed or could not be published. The caller holds the lock.
   */
  void restoreCommitted(OwnedObject mutex);

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

  /** Tells the node {@code holder} about its reference (which may be on this node). */
  void notify(NodeId holder, HolderNotice notice);

  /** True if {@code node} has left the cluster for good. */
  boolean isDeparted(NodeId node);

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
