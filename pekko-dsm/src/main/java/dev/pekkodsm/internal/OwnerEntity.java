package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.BorrowState;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.LendLedger;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.internal.Protocol.Adopt;
import dev.pekkodsm.internal.Protocol.Collected;
import dev.pekkodsm.internal.Protocol.Drop;
import dev.pekkodsm.internal.Protocol.HandOver;
import dev.pekkodsm.internal.Protocol.Lend;
import dev.pekkodsm.internal.Protocol.OwnerCommand;
import dev.pekkodsm.internal.Protocol.Reason;
import dev.pekkodsm.internal.Protocol.Refused;
import dev.pekkodsm.internal.Protocol.Release;
import dev.pekkodsm.internal.Protocol.Reply;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityContext;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owner of one object as a sharded entity: the address other nodes send requests to. It holds
 * no state of its own; the object lives in the node's table, so the entity can be passivated and
 * restarted freely. It stops itself once its object has moved or been dropped.
 *
 * <p>Requests that must wait (a hand-over while references are lent) are parked on the object with
 * a deadline and answered from whichever thread grants or expires them; the actor is never blocked.
 */
final class OwnerEntity {

  static final EntityTypeKey<OwnerCommand> TYPE_KEY =
      EntityTypeKey.create(OwnerCommand.class, "pekko-dsm-owner");

  private static final Logger log = LoggerFactory.getLogger(OwnerEntity.class);

  private final DsmNode node;
  private final ActorRef<OwnerCommand> self;
  private final ActorRef<ClusterSharding.ShardCommand> shard;

  private OwnerEntity(
      DsmNode node,
      ActorContext<OwnerCommand> context,
      ActorRef<ClusterSharding.ShardCommand> shard) {
    this.node = node;
    this.self = context.getSelf();
    this.shard = shard;
  }

  static Behavior<OwnerCommand> create(DsmNode node, EntityContext<OwnerCommand> entity) {
    return Behaviors.setup(ctx -> new OwnerEntity(node, ctx, entity.getShard()).behavior());
  }

  /**
   * The object has left: ask the shard to stop this entity. Requests already in the mailbox are
   * answered first, and later ones go to a fresh entity, which answers from the tombstone.
   */
  private void passivate() {
    shard.tell(new ClusterSharding.Passivate<>(self));
  }

  /** The entity id of an object: its home and id in hex. */
  static String entityId(long home, long object) {
    return Long.toHexString(home) + ":" + Long.toHexString(object);
  }

  /** The shard of an entity: its home node, so each node's objects form one shard. */
  static String shardId(String entityId) {
    int colon = entityId.indexOf(':');
    return colon < 0 ? entityId : entityId.substring(0, colon);
  }

  private Behavior<OwnerCommand> behavior() {
    return Behaviors.receive(OwnerCommand.class).onAnyMessage(this::onCommand).build();
  }

  private Behavior<OwnerCommand> onCommand(OwnerCommand command) {
    try {
      handle(command);
    } catch (RuntimeException e) {
      // A malformed or unexpected request must not stop the entity: its mailbox may hold
      // releases and requests of well-behaved nodes.
      log.warn(
          "owner of {} could not handle {}: {}",
          entityId(command.home(), command.object()),
          command.getClass().getSimpleName(),
          e.toString());
    }
    return Behaviors.same();
  }

  private void handle(OwnerCommand command) {
    NodeId home = NodeId.of(command.home());
    if (command instanceof Collected c) {
      node.collectMoveSlot(c.locator());
      return;
    }
    if (command instanceof Protocol.CancelLend c) {
      Protocol.Lent granted = node.cancelLend(new DsmNode.LendKey(c.holder(), c.requestId()));
      OwnedObject obj = node.object(c.object());
      if (granted != null && obj != null) {
        obj.returnLend(NodeId.of(c.holder()), granted.weight(), granted.color());
      }
      return;
    }
    if (!home.equals(node.self())) {
      // This shard was re-allocated here because its node left the cluster.
      answerGone(
          command,
          Refused.of(
              Reason.LOST,
              "object "
                  + entityId(command.home(), command.object())
                  + " was lost with its home "
                  + home));
      return;
    }
    OwnedObject obj = node.object(command.object());
    if (obj == null) {
      Protocol.Reply again =
          command instanceof HandOver h
              ? node.retainedHandOver(h.object(), h.requester(), h.newObject())
              : null;
      if (again != null) {
        // The writer missed our answer and asked again: the same answer, once more.
        ((HandOver) command).replyTo().tell(again);
      } else {
        answerGone(command, node.goneReason(command.object()));
      }
      return;
    }
    if (command instanceof HandOver h) {
      handOver(obj, h);
    } else if (command instanceof Lend l) {
      lend(obj, l);
    } else if (command instanceof Drop d) {
      drop(obj, d);
    } else if (command instanceof Protocol.Freeze f) {
      freeze(obj, f);
    } else if (command instanceof Protocol.AtomicOp op) {
      if (obj.value() instanceof AtomicCell cell) {
        AtomicCell.Result r = cell.apply(node, obj, op.op(), op.a(), op.b());
        op.replyTo().tell(new Protocol.AtomicDone(r.value(), r.done()));
      } else {
        op.replyTo().tell(Refused.of(Reason.FAILED, obj.address() + " is not an atomic"));
      }
    } else if (command instanceof Protocol.Where w) {
      where(obj, w);
    } else if (command instanceof Protocol.RunAt r) {
      node.runAt(obj, r.color(), r.mode(), r.fn(), true).thenAccept(r.replyTo()::tell);
    } else if (command instanceof Protocol.Lock l) {
      lock(obj, l);
    } else if (command instanceof Protocol.Unlock u) {
      unlock(obj, u);
    } else if (command instanceof Protocol.CancelLock c) {
      node.markCancelled(new DsmNode.LendKey(c.holder(), c.lockId()));
      if (obj.value() instanceof MutexCell cell
          && cell.release(NodeId.of(c.holder()), c.lockId())) {
        obj.endExclusive();
      }
    } else if (command instanceof Release r) {
      obj.returnLend(NodeId.of(r.holder()), r.weight(), r.color());
    } else if (command instanceof Adopt a) {
      adopt(obj, a);
    } else if (command instanceof Protocol.Confirm c) {
      boolean ok = obj.confirms(NodeId.of(c.holder()), c.color());
      c.replyTo()
          .tell(
              new Protocol.Confirmed(
                  ok,
                  ok
                      ? ""
                      : "object "
                          + obj.address().objectName()
                          + " changed since the reference was lent at color "
                          + c.color()));
    } else {
      log.warn("unexpected owner command {}", command);
    }
  }

  private void answerGone(OwnerCommand command, Refused refused) {
    ActorRef<Reply> replyTo = null;
    if (command instanceof HandOver h) {
      replyTo = h.replyTo();
    } else if (command instanceof Lend l) {
      replyTo = l.replyTo();
    } else if (command instanceof Drop d) {
      replyTo = d.replyTo();
    } else if (command instanceof Protocol.Freeze f) {
      replyTo = f.replyTo();
    } else if (command instanceof Protocol.AtomicOp op) {
      replyTo = op.replyTo();
    } else if (command instanceof Protocol.Where w) {
      replyTo = w.replyTo();
    } else if (command instanceof Protocol.RunAt r) {
      replyTo = r.replyTo();
    } else if (command instanceof Protocol.Lock l) {
      replyTo = l.replyTo();
    } else if (command instanceof Protocol.Unlock u) {
      replyTo = u.replyTo();
    } else if (command instanceof Protocol.Confirm c) {
      c.replyTo().tell(new Protocol.Confirmed(false, refused.detail()));
    } else if (command instanceof Adopt a && !a.box()) {
      node.revoke(NodeId.of(a.to()), a.refId(), refused.detail());
    }
    if (replyTo != null) {
      replyTo.tell(refused);
    }
  }

  private void handOver(OwnedObject obj, HandOver h) {
    GlobalAddress address = obj.address();
    if (address.color() != h.color()) {
      h.replyTo()
          .tell(
              Refused.of(
                  Reason.STALE,
                  "hand-over of "
                      + address.objectName()
                      + " asked for color "
                      + h.color()
                      + ", it has "
                      + address.color()));
      return;
    }
    NodeId requester = NodeId.of(h.requester());
    obj.acquire(
            BorrowState.Kind.EXCLUSIVE,
            null,
            0,
            "a hand-over to " + requester,
            node.borrowTimeoutNs())
        .whenComplete(
            (granted, failure) -> {
              if (failure != null) {
                h.replyTo().tell(node.refusal(address, failure));
                return;
              }
              Reply reply;
              try {
                reply = node.handOverValue(obj);
              } catch (RuntimeException e) {
                obj.endExclusive();
                log.warn("hand-over of {} to {} failed: {}", address, requester, e.toString());
                h.replyTo()
                    .tell(
                        Refused.of(
                            Reason.FAILED,
                            "the home could not serialize " + address + ": " + e.getMessage()));
                return;
              }
              node.retire(
                  obj, BorrowState.Phase.MOVED, new GlobalAddress(requester, h.newObject(), 0));
              node.retainHandOver(address.object(), h.requester(), h.newObject(), reply);
              node.metrics().movesOut.increment();
              h.replyTo().tell(reply);
              passivate();
            });
  }

  private void lend(OwnedObject obj, Lend l) {
    GlobalAddress address = obj.address();
    DsmNode.LendKey key = new DsmNode.LendKey(l.holder(), l.requestId());
    Protocol.Lent already = node.lendAlreadyGranted(key);
    if (already != null) {
      l.replyTo().tell(already); // a retry: the same lend, not a second one
      return;
    }
    if (address.color() != l.color()) {
      l.replyTo()
          .tell(
              Refused.of(
                  Reason.STALE,
                  "lend of "
                      + address.objectName()
                      + " asked for color "
                      + l.color()
                      + ", it has "
                      + address.color()));
      return;
    }
    NodeId holder = NodeId.of(l.holder());
    long weight = LendLedger.INITIAL_WEIGHT;
    obj.acquire(BorrowState.Kind.LEND, holder, weight, null, node.borrowTimeoutNs())
        .whenComplete(
            (granted, failure) -> {
              if (failure != null) {
                l.replyTo().tell(node.refusal(address, failure));
                return;
              }
              if (node.lendCancelled(key)) {
                obj.returnLend(holder, weight, address.color()); // the holder has given up
                return;
              }
              DsmNode.Snapshot snapshot;
              try {
                snapshot = node.ensurePublished(obj);
              } catch (RuntimeException e) {
                obj.returnLend(holder, weight, address.color());
                l.replyTo()
                    .tell(
                        Refused.of(
                            Reason.FAILED,
                            "the home could not publish " + address + ": " + e.getMessage()));
                return;
              }
              node.metrics().lends.increment();
              Protocol.Lent lent =
                  new Protocol.Lent(
                      address.color(), weight, snapshot.locator(), snapshot.frameBytes());
              node.lendGranted(key, lent);
              l.replyTo().tell(lent);
            });
  }

  private void drop(OwnedObject obj, Drop d) {
    GlobalAddress address = obj.address();
    obj.acquire(
            BorrowState.Kind.EXCLUSIVE,
            null,
            0,
            "a drop by " + NodeId.of(d.requester()),
            node.borrowTimeoutNs())
        .whenComplete(
            (granted, failure) -> {
              if (failure != null) {
                d.replyTo().tell(node.refusal(address, failure));
                return;
              }
              node.retire(obj, BorrowState.Phase.DROPPED, null);
              d.replyTo().tell(new Protocol.Dropped());
              passivate();
            });
  }

  private void freeze(OwnedObject obj, Protocol.Freeze f) {
    GlobalAddress address = obj.address();
    NodeId requester = NodeId.of(f.requester());
    obj.acquire(
            BorrowState.Kind.EXCLUSIVE, null, 0, "a freeze by " + requester, node.borrowTimeoutNs())
        .whenComplete(
            (granted, failure) -> {
              if (failure != null) {
                f.replyTo().tell(node.refusal(address, failure));
                return;
              }
              long weight = LendLedger.INITIAL_WEIGHT;
              node.shareOwnership(obj, requester, weight);
              obj.endExclusive();
              DsmNode.Snapshot snapshot;
              try {
                snapshot = node.ensurePublished(obj); // immutable now: its color never changes
              } catch (RuntimeException e) {
                obj.returnLend(requester, weight, address.color());
                f.replyTo()
                    .tell(
                        Refused.of(
                            Reason.FAILED,
                            "the home could not publish " + address + ": " + e.getMessage()));
                return;
              }
              f.replyTo()
                  .tell(
                      new Protocol.Lent(
                          address.color(), weight, snapshot.locator(), snapshot.frameBytes()));
            });
  }

  private void where(OwnedObject obj, Protocol.Where w) {
    if (obj.value() instanceof MutexCell || obj.value() instanceof AtomicCell) {
      GlobalAddress a = obj.address(); // rewritten in place: the slot is all a reader needs
      w.replyTo().tell(new Protocol.At(a.object(), a.color(), obj.locator(), obj.snapshotBytes()));
      return;
    }
    GlobalAddress address = obj.address();
    obj.acquire(BorrowState.Kind.SHARED, null, 0, null, node.borrowTimeoutNs())
        .whenComplete(
            (granted, failure) -> {
              if (failure != null) {
                w.replyTo().tell(node.refusal(address, failure));
                return;
              }
              try {
                DsmNode.Snapshot snapshot = node.ensurePublished(obj);
                GlobalAddress now = obj.address();
                w.replyTo()
                    .tell(
                        new Protocol.At(
                            now.object(), now.color(), snapshot.locator(), snapshot.frameBytes()));
              } catch (RuntimeException e) {
                w.replyTo()
                    .tell(
                        Refused.of(
                            Reason.FAILED,
                            "the home could not publish " + address + ": " + e.getMessage()));
              } finally {
                obj.endShared();
              }
            });
  }

  private void lock(OwnedObject obj, Protocol.Lock l) {
    if (!(obj.value() instanceof MutexCell cell)) {
      l.replyTo().tell(Refused.of(Reason.FAILED, obj.address() + " is not a mutex"));
      return;
    }
    GlobalAddress address = obj.address();
    NodeId holder = NodeId.of(l.holder());
    DsmNode.LendKey key = new DsmNode.LendKey(l.holder(), l.lockId());
    obj.acquire(BorrowState.Kind.EXCLUSIVE, null, 0, "a lock by " + holder, node.borrowTimeoutNs())
        .whenComplete(
            (granted, failure) -> {
              if (failure != null) {
                l.replyTo().tell(node.refusal(address, failure));
                return;
              }
              // Record the holder first, then look for a cancellation or a departure: a
              // CancelLock or a departure handled meanwhile either finds the holder recorded
              // (and releases the lock itself) or is seen here. Only the winner of release()
              // ends the exclusive borrow.
              cell.lockedBy(holder, l.lockId());
              if (node.lendCancelled(key) || node.isDeparted(holder)) {
                if (cell.release(holder, l.lockId())) {
                  obj.endExclusive(); // the holder gave up, or is gone: nobody will unlock
                }
                return;
              }
              byte[] value;
              try {
                value = node.encodeSnapshotValue(cell.value());
              } catch (RuntimeException e) {
                if (cell.release(holder, l.lockId())) {
                  obj.endExclusive();
                }
                l.replyTo().tell(Refused.of(Reason.FAILED, e.getMessage()));
                return;
              }
              if (value.length > node.settings().moveInlineBytes) {
                if (!cell.release(holder, l.lockId())) {
                  return;
                }
                obj.endExclusive();
                l.replyTo()
                    .tell(
                        Refused.of(
                            Reason.FAILED,
                            "the value of mutex "
                                + address.objectName()
                                + " ("
                                + value.length
                                + " bytes) is above pekko.dsm.move.inline-limit: lock it on"
                                + " its home node, or ship the change with update(fn)"));
                return;
              }
              l.replyTo().tell(new Protocol.Locked(value, cell.version()));
            });
  }

  private void unlock(OwnedObject obj, Protocol.Unlock u) {
    NodeId holder = NodeId.of(u.holder());
    if (!(obj.value() instanceof MutexCell cell) || !cell.heldBy(holder, u.lockId())) {
      u.replyTo()
          .tell(
              Refused.of(
                  Reason.STALE,
                  "this node no longer holds the lock of "
                      + obj.address().objectName()
                      + ": it was released because the node was thought gone, or gave up"));
      return;
    }
    // Take the lock back from the holder first: if a departure or a CancelLock released it
    // meanwhile, that one ended the borrow, and this unlock is too late to count.
    if (!cell.release(holder, u.lockId())) {
      u.replyTo()
          .tell(
              Refused.of(
                  Reason.STALE,
                  "this node no longer holds the lock of " + obj.address().objectName()));
      return;
    }
    try {
      Object value;
      try {
        value = node.decodeSnapshotValue(u.value());
      } catch (RuntimeException e) {
        u.replyTo().tell(Refused.of(Reason.FAILED, "the new value cannot be read: " + e));
        return;
      }
      cell.value(value);
      try {
        cell.commit(node, obj);
      } catch (RuntimeException e) {
        node.restoreCommitted(obj);
        u.replyTo().tell(Refused.of(Reason.FAILED, "the new value cannot be published: " + e));
        return;
      }
    } finally {
      obj.endExclusive();
    }
    u.replyTo().tell(new Protocol.Unlocked(cell.version()));
  }

  private void adopt(OwnedObject obj, Adopt a) {
    NodeId from = NodeId.of(a.from());
    NodeId to = NodeId.of(a.to());
    if (a.box()) {
      if (obj.color() == a.color()) {
        obj.boxHolder(to);
      }
      if (node.isDeparted(to)) {
        node.memberRemovedLate(to, obj);
      }
      return;
    }
    if (a.weight() > 0) {
      OwnedObject.Adoption result = obj.adopt(from, to, a.weight(), a.color(), node::isDeparted);
      if (result == OwnedObject.Adoption.STALE) {
        node.revoke(
            to,
            a.refId(),
            "object "
                + entityId(a.home(), a.object())
                + " changed after the node that sent this reference left the cluster");
        return;
      }
    }
    if (a.topUp() && obj.topUp(to, LendLedger.INITIAL_WEIGHT, a.color())) {
      node.toppedUp(to, a.refId(), obj.address().withColor(a.color()), LendLedger.INITIAL_WEIGHT);
    }
    if (node.isDeparted(to)) {
      obj.reclaim(to);
    }
  }
}
