package dev.pekkodsm.internal;

import dev.pekkodsm.coherence.BorrowState;
import dev.pekkodsm.coherence.BorrowTimeoutException;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.LendLedger;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.ObjectRetiredException;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.Tombstones;
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
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owner of one object as a sharded entity: the address other nodes send requests to. It
 * holds no state of its own; the object lives in the node's table, so the entity can be
 * passivated and restarted freely. It stops itself once its object has moved or been dropped.
 *
 * <p>Requests that must wait (a hand-over while references are lent) are parked on the object
 * with a deadline and answered from whichever thread grants or expires them; the actor is never
 * blocked.
 */
final class OwnerEntity {

  static final EntityTypeKey<OwnerCommand> TYPE_KEY =
      EntityTypeKey.create(OwnerCommand.class, "pekko-dsm-owner");

  private static final Logger log = LoggerFactory.getLogger(OwnerEntity.class);

  /** Sent to itself once the object has left: the entity has nothing more to do. */
  private enum Retired implements OwnerCommand {
    INSTANCE;

    @Override
    public long home() {
      return 0;
    }

    @Override
    public long object() {
      return 0;
    }
  }

  private final DsmNode node;
  private final ActorRef<OwnerCommand> self;

  private OwnerEntity(DsmNode node, ActorContext<OwnerCommand> context) {
    this.node = node;
    this.self = context.getSelf();
  }

  static Behavior<OwnerCommand> create(DsmNode node) {
    return Behaviors.setup(ctx -> new OwnerEntity(node, ctx).behavior());
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
    return Behaviors.receive(OwnerCommand.class)
        .onMessageEquals(Retired.INSTANCE, Behaviors::stopped)
        .onAnyMessage(this::onCommand)
        .build();
  }

  private Behavior<OwnerCommand> onCommand(OwnerCommand command) {
    NodeId home = NodeId.of(command.home());
    if (command instanceof Collected c) {
      node.collectMoveSlot(c.locator());
      return Behaviors.same();
    }
    if (!home.equals(node.self())) {
      // This shard was re-allocated here because its node left the cluster.
      answerGone(command, Refused.of(Reason.LOST,
          "object " + entityId(command.home(), command.object()) + " was lost with its home "
              + home));
      return Behaviors.same();
    }
    OwnedObject obj = node.object(command.object());
    if (obj == null) {
      answerGone(command, goneReason(command.object()));
      return Behaviors.same();
    }
    if (command instanceof HandOver h) {
      handOver(obj, h);
    } else if (command instanceof Lend l) {
      lend(obj, l);
    } else if (command instanceof Drop d) {
      drop(obj, d);
    } else if (command instanceof Release r) {
      obj.returnLend(NodeId.of(r.holder()), r.weight(), r.color());
    } else if (command instanceof Adopt a) {
      adopt(obj, a);
    } else {
      log.warn("unexpected owner command {}", command);
    }
    return Behaviors.same();
  }

  private Refused goneReason(long object) {
    Tombstones.Tombstone t = node.tombstone(object);
    String name = entityId(node.self().value(), object);
    if (t == null) {
      return Refused.of(Reason.UNKNOWN, "object " + name + " is not known at its home");
    }
    return switch (t.phase()) {
      case MOVED -> new Refused(Reason.MOVED,
          "object " + name + " moved to " + t.movedTo(), t.movedTo().node().value(),
          t.movedTo().object(), 0, Map.of());
      case DROPPED -> Refused.of(Reason.DROPPED, "object " + name + " was dropped");
      default -> Refused.of(Reason.LOST, "object " + name + " was lost");
    };
  }

  private void answerGone(OwnerCommand command, Refused refused) {
    ActorRef<Reply> replyTo = null;
    if (command instanceof HandOver h) {
      replyTo = h.replyTo();
    } else if (command instanceof Lend l) {
      replyTo = l.replyTo();
    } else if (command instanceof Drop d) {
      replyTo = d.replyTo();
    } else if (command instanceof Adopt a && !a.box()) {
      node.revoke(NodeId.of(a.to()), a.refId(), refused.detail());
    }
    if (replyTo != null) {
      replyTo.tell(refused);
    }
  }

  private Refused refusal(GlobalAddress address, Throwable failure) {
    Throwable cause = failure instanceof java.util.concurrent.CompletionException
        && failure.getCause() != null ? failure.getCause() : failure;
    if (cause instanceof BorrowTimeoutException t) {
      Map<Long, Integer> lent = new HashMap<>();
      t.holders().lentRefs().forEach((n, c) -> lent.put(n.value(), c));
      return new Refused(Reason.CONFLICT, cause.getMessage(), 0, 0, t.holders().readers(), lent);
    }
    if (cause instanceof ObjectRetiredException) {
      return goneReason(address.object());
    }
    return Refused.of(Reason.FAILED, String.valueOf(cause));
  }

  private void handOver(OwnedObject obj, HandOver h) {
    GlobalAddress address = obj.address();
    if (address.color() != h.color()) {
      h.replyTo().tell(Refused.of(Reason.STALE,
          "hand-over of " + address.objectName() + " asked for color " + h.color() + ", it has "
              + address.color()));
      return;
    }
    NodeId requester = NodeId.of(h.requester());
    obj.acquire(BorrowState.Kind.EXCLUSIVE, null, 0, "a hand-over to " + requester,
            node.borrowTimeoutNs())
        .whenComplete((granted, failure) -> {
          if (failure != null) {
            h.replyTo().tell(refusal(address, failure));
            return;
          }
          Reply reply;
          try {
            reply = node.handOverValue(obj);
          } catch (RuntimeException e) {
            obj.endExclusive(false);
            log.warn("hand-over of {} to {} failed: {}", address, requester, e.toString());
            h.replyTo().tell(Refused.of(Reason.FAILED,
                "the home could not serialize " + address + ": " + e.getMessage()));
            return;
          }
          node.retire(obj, BorrowState.Phase.MOVED,
              new GlobalAddress(requester, h.newObject(), 0));
          node.metrics().movesOut.increment();
          h.replyTo().tell(reply);
          self.tell(Retired.INSTANCE);
        });
  }

  private void lend(OwnedObject obj, Lend l) {
    GlobalAddress address = obj.address();
    if (address.color() != l.color()) {
      l.replyTo().tell(Refused.of(Reason.STALE, "lend of " + address.objectName()
          + " asked for color " + l.color() + ", it has " + address.color()));
      return;
    }
    NodeId holder = NodeId.of(l.holder());
    long weight = LendLedger.INITIAL_WEIGHT;
    obj.acquire(BorrowState.Kind.LEND, holder, weight, null, node.borrowTimeoutNs())
        .whenComplete((granted, failure) -> {
          if (failure != null) {
            l.replyTo().tell(refusal(address, failure));
            return;
          }
          DsmNode.Snapshot snapshot;
          try {
            snapshot = node.ensurePublished(obj);
          } catch (RuntimeException e) {
            obj.returnLend(holder, weight, address.color());
            l.replyTo().tell(Refused.of(Reason.FAILED,
                "the home could not publish " + address + ": " + e.getMessage()));
            return;
          }
          node.metrics().lends.increment();
          l.replyTo().tell(new Protocol.Lent(address.color(), weight, snapshot.locator(),
              snapshot.frameBytes()));
        });
  }

  private void drop(OwnedObject obj, Drop d) {
    GlobalAddress address = obj.address();
    obj.acquire(BorrowState.Kind.EXCLUSIVE, null, 0, "a drop by " + NodeId.of(d.requester()),
            node.borrowTimeoutNs())
        .whenComplete((granted, failure) -> {
          if (failure != null) {
            d.replyTo().tell(refusal(address, failure));
            return;
          }
          node.retire(obj, BorrowState.Phase.DROPPED, null);
          d.replyTo().tell(new Protocol.Dropped());
          self.tell(Retired.INSTANCE);
        });
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
    OwnedObject.Adoption result =
        obj.adopt(from, to, a.weight(), a.color(), node.isDeparted(from));
    if (result == OwnedObject.Adoption.STALE) {
      node.revoke(to, a.refId(), "object " + entityId(a.home(), a.object())
          + " changed after the node that sent this reference left the cluster");
      return;
    }
    if (a.topUp() && obj.topUp(to, LendLedger.INITIAL_WEIGHT, a.color())) {
      node.toppedUp(to, a.refId(), LendLedger.INITIAL_WEIGHT);
    }
    if (node.isDeparted(to)) {
      obj.reclaim(to);
    }
  }
}
