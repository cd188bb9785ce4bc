package dev.pekkodsm.coherence.home;

import dev.pekkodsm.coherence.AtomicCell;
import dev.pekkodsm.coherence.BorrowState;
import dev.pekkodsm.coherence.BorrowTimeoutException;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.LendLedger;
import dev.pekkodsm.coherence.MutexCell;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.ObjectKind;
import dev.pekkodsm.coherence.ObjectRetiredException;
import dev.pekkodsm.coherence.ObjectTable;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.Snapshot;
import dev.pekkodsm.coherence.Tombstones;
import dev.pekkodsm.coherence.home.HomeReply.Reason;
import dev.pekkodsm.coherence.home.HomeReply.Refused;
import dev.pekkodsm.coherence.mutex.LockWord;
import dev.pekkodsm.coherence.mutex.MutexHome;
import dev.pekkodsm.coherence.mutex.MutexQueue;
import dev.pekkodsm.memory.ReadBuffer;
import dev.pekkodsm.serialization.internal.SnapshotCodec;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The home side of the DSM's protocol: how a node answers requests about the objects homed on it.
 * Moves (hand-over, with its idempotent retry), lends (with cancel, adopt, top-up and revoke), the
 * confirmation of suspect references, freezes, drops, atomics, the mutex lock and unlock, functions
 * run at the object, and what a departed node leaves behind.
 *
 * <p>Plain Java: requests come in through {@link #handle}, time through the objects' {@link
 * dev.pekkodsm.coherence.Timing}, and every effect goes out through {@link HomePorts}. A request
 * that must wait (a hand-over while references are lent) is parked on the object with a deadline
 * and answered from whichever thread grants or expires it; nothing here blocks. So every exchange
 * can be replayed in a unit test with a manual clock.
 *
 * <p>Thread-safe: each object's state changes under its own monitor ({@link OwnedObject}).
 */
public final class HomeProtocol {

  private final NodeId self;
  private final ObjectTable table;
  private final HomePorts ports;
  private final MutexHome mutexes;
  private final AtomicLong nextLockId = new AtomicLong(Long.MIN_VALUE);
  private final RequestMemory memory;
  private final long borrowTimeoutNs;
  private final int moveInlineBytes;

  /**
   * @param table the objects homed on this node
   * @param ports the node's effects
   * @param mutexes the home side of the mutexes' locks
   * @param memory answers kept for repeated requests
   * @param borrowTimeoutNs how long a request waits for conflicting borrows
   * @param moveInlineBytes the largest mutex value a lock's answer carries
   */
  public HomeProtocol(
      ObjectTable table,
      HomePorts ports,
      MutexHome mutexes,
      RequestMemory memory,
      long borrowTimeoutNs,
      int moveInlineBytes) {
    this.self = table.self();
    this.table = table;
    this.ports = ports;
    this.mutexes = mutexes;
    this.memory = memory;
    this.borrowTimeoutNs = borrowTimeoutNs;
    this.moveInlineBytes = moveInlineBytes;
  }

  /**
   * Serves one request. The answer goes to {@code out}, at once or when a wait ends; one-way
   * requests answer nothing.
   */
  public void handle(HomeRequest request, Responder out) {
    if (!request.needsObject()) {
      request.applyTo(this, null, out);
      return;
    }
    if (request.home() != self.value()) {
      // This node serves a departed node's objects only to say they are gone.
      request.whenGone(
          this,
          Refused.of(
              Reason.LOST,
              "object "
                  + name(request.home(), request.object())
                  + " was lost with its home "
                  + NodeId.of(request.home())),
          out);
      return;
    }
    OwnedObject obj = table.get(request.object());
    if (obj == null) {
      request.whenGone(this, goneReason(request.object()), out);
      return;
    }
    request.applyTo(this, obj, out);
  }

  // ---------------------------------------------------------------- moves

  void handOver(OwnedObject obj, HomeRequest.HandOver h, Responder out) {
    GlobalAddress address = obj.address();
    if (obj.kind() != ObjectKind.BOX) {
      out.reply(Refused.of(Reason.FAILED, address + " is a " + obj.kind() + ", not a box's"));
      return;
    }
    if (address.color() != h.color()) {
      out.reply(staleColor("hand-over", address, h.color()));
      return;
    }
    NodeId requester = NodeId.of(h.requester());
    obj.acquire(BorrowState.Kind.EXCLUSIVE, null, 0, "a hand-over to " + requester, borrowTimeoutNs)
        .whenComplete(
            (granted, failure) -> {
              if (failure != null) {
                out.reply(refusal(address, failure));
                return;
              }
              HomeReply reply;
              try {
                reply = ports.handOverValue(obj);
              } catch (RuntimeException e) {
                obj.endExclusive();
                out.reply(
                    Refused.of(
                        Reason.FAILED,
                        "the home could not serialize " + address + ": " + e.getMessage()));
                return;
              }
              table.retire(
                  obj, BorrowState.Phase.MOVED, new GlobalAddress(requester, h.newObject(), 0));
              memory.handedOver(address.object(), h.requester(), h.newObject(), reply);
              ports.movedOut();
              out.reply(reply);
              out.objectLeft();
            });
  }

  /** A hand-over whose object has left: the writer who missed our answer gets it once more. */
  void handOverGone(HomeRequest.HandOver h, Refused refusal, Responder out) {
    HomeReply again =
        h.home() == self.value()
            ? memory.handOverAnswer(h.object(), h.requester(), h.newObject())
            : null;
    out.reply(again != null ? again : refusal);
  }

  void collected(HomeRequest.Collected c) {
    ports.freeMoveSlot(c.locator());
  }

  // ---------------------------------------------------------------- lends

  void lend(OwnedObject obj, HomeRequest.Lend l, Responder out) {
    GlobalAddress address = obj.address();
    RequestMemory.Key key = new RequestMemory.Key(l.holder(), l.requestId());
    HomeReply.Lent already = memory.lendAlreadyGranted(key);
    if (already != null) {
      out.reply(already); // a retry: the same lend, not a second one
      return;
    }
    if (address.color() != l.color()) {
      out.reply(staleColor("lend", address, l.color()));
      return;
    }
    NodeId holder = NodeId.of(l.holder());
    long weight = LendLedger.INITIAL_WEIGHT;
    obj.acquire(BorrowState.Kind.LEND, holder, weight, null, borrowTimeoutNs)
        .whenComplete(
            (granted, failure) -> {
              if (failure != null) {
                out.reply(refusal(address, failure));
                return;
              }
              if (memory.isCancelled(key)) {
                obj.returnLend(holder, weight, address.color()); // the holder has given up
                return;
              }
              Snapshot snapshot;
              try {
                snapshot = ports.publish(obj);
              } catch (RuntimeException e) {
                obj.returnLend(holder, weight, address.color());
                out.reply(cannotPublish(address, e));
                return;
              }
              ports.lentOut();
              HomeReply.Lent lent =
                  new HomeReply.Lent(
                      address.color(), weight, snapshot.locator(), snapshot.frameBytes());
              memory.lendGranted(key, lent);
              out.reply(lent);
            });
  }

  void cancelLend(HomeRequest.CancelLend c) {
    HomeReply.Lent granted = memory.cancel(new RequestMemory.Key(c.holder(), c.requestId()));
    OwnedObject obj = c.home() == self.value() ? table.get(c.object()) : null;
    if (granted != null && obj != null) {
      obj.returnLend(NodeId.of(c.holder()), granted.weight(), granted.color());
    }
  }

  void release(OwnedObject obj, HomeRequest.Release r) {
    obj.returnLend(NodeId.of(r.holder()), r.weight(), r.color());
  }

  void adopt(OwnedObject obj, HomeRequest.Adopt a) {
    NodeId from = NodeId.of(a.from());
    NodeId to = NodeId.of(a.to());
    if (a.box()) {
      if (obj.color() == a.color()) {
        obj.boxHolder(to);
        ports.boxHolderChanged(obj);
      }
      if (ports.isDeparted(to)) {
        obj.reclaim(to);
        dropOrphan(obj, to); // adopted by a node that has already left: nobody owns it
      }
      return;
    }
    if (a.weight() > 0
        && obj.adopt(from, to, a.weight(), a.color(), ports::isDeparted)
            == OwnedObject.Adoption.STALE) {
      revoke(
          to,
          a.refId(),
          "object "
              + name(a.home(), a.object())
              + " changed after the node that sent this reference left the cluster");
      return;
    }
    if (a.topUp() && obj.topUp(to, LendLedger.INITIAL_WEIGHT, a.color())) {
      ports.notify(
          to,
          new HolderNotice.ToppedUp(
              a.refId(), a.home(), a.object(), a.color(), LendLedger.INITIAL_WEIGHT));
    }
    if (ports.isDeparted(to)) {
      obj.reclaim(to);
    }
  }

  void confirm(OwnedObject obj, HomeRequest.Confirm c, Responder out) {
    boolean ok = obj.confirms(NodeId.of(c.holder()), c.color());
    out.reply(
        new HomeReply.Confirmed(
            ok,
            ok
                ? ""
                : "object "
                    + obj.address().objectName()
                    + " changed since the reference was lent at color "
                    + c.color()));
  }

  /** Tells {@code holder} that its reference {@code refId} is stale. */
  void revoke(long holder, long refId, String reason) {
    revoke(NodeId.of(holder), refId, reason);
  }

  private void revoke(NodeId holder, long refId, String reason) {
    ports.notify(holder, new HolderNotice.Revoked(refId, reason));
  }

  // ---------------------------------------------------------------- freeze, drop, where

  void freeze(OwnedObject obj, HomeRequest.Freeze f, Responder out) {
    GlobalAddress address = obj.address();
    NodeId requester = NodeId.of(f.requester());
    obj.acquire(BorrowState.Kind.EXCLUSIVE, null, 0, "a freeze by " + requester, borrowTimeoutNs)
        .whenComplete(
            (granted, failure) -> {
              if (failure != null) {
                out.reply(refusal(address, failure));
                return;
              }
              long weight = LendLedger.INITIAL_WEIGHT;
              table.shareOwnership(obj, requester, weight);
              obj.endExclusive();
              Snapshot snapshot;
              try {
                snapshot = ports.publish(obj); // immutable now: its color never changes
              } catch (RuntimeException e) {
                obj.returnLend(requester, weight, address.color());
                out.reply(cannotPublish(address, e));
                return;
              }
              out.reply(
                  new HomeReply.Lent(
                      address.color(), weight, snapshot.locator(), snapshot.frameBytes()));
            });
  }

  void drop(OwnedObject obj, HomeRequest.Drop d, Responder out) {
    GlobalAddress address = obj.address();
    obj.acquire(
            BorrowState.Kind.EXCLUSIVE,
            null,
            0,
            "a drop by " + NodeId.of(d.requester()),
            borrowTimeoutNs)
        .whenComplete(
            (granted, failure) -> {
              if (failure != null) {
                out.reply(refusal(address, failure));
                return;
              }
              table.retire(obj, BorrowState.Phase.DROPPED, null);
              out.reply(new HomeReply.Dropped());
              out.objectLeft();
            });
  }

  void where(OwnedObject obj, Responder out) {
    if (obj.kind().rewrittenInPlace()) {
      GlobalAddress a = obj.address(); // its cell never moves: the cell is all a reader needs
      long cell = obj.kind() == ObjectKind.MUTEX ? obj.mutexCell().cell() : obj.atomicCell().cell();
      out.reply(new HomeReply.At(a.object(), a.color(), cell, 0));
      return;
    }
    GlobalAddress address = obj.address();
    obj.acquire(BorrowState.Kind.SHARED, null, 0, null, borrowTimeoutNs)
        .whenComplete(
            (granted, failure) -> {
              if (failure != null) {
                out.reply(refusal(address, failure));
                return;
              }
              try {
                Snapshot snapshot = ports.publish(obj);
                GlobalAddress now = obj.address();
                out.reply(
                    new HomeReply.At(
                        now.object(), now.color(), snapshot.locator(), snapshot.frameBytes()));
              } catch (RuntimeException e) {
                out.reply(cannotPublish(address, e));
              } finally {
                obj.endShared();
              }
            });
  }

  // ---------------------------------------------------------------- atomics and mutexes

  void atomicOp(OwnedObject obj, HomeRequest.AtomicOp op, Responder out) {
    if (obj.kind() != ObjectKind.ATOMIC) {
      out.reply(Refused.of(Reason.FAILED, obj.address() + " is not an atomic"));
      return;
    }
    ports.offload(
        () -> {
          AtomicCell.Result r;
          try {
            r =
                AtomicCell.apply(
                    mutexes.region(),
                    obj.atomicCell().cell(),
                    obj.objectId(),
                    op.op(),
                    op.a(),
                    op.b(),
                    Long.MAX_VALUE);
          } catch (RuntimeException e) {
            out.reply(Refused.of(Reason.FAILED, "the atomic operation failed: " + e));
            return;
          }
          out.reply(new HomeReply.AtomicDone(r.value(), r.done()));
        });
  }

  void lock(OwnedObject obj, HomeRequest.Lock l, Responder out) {
    if (obj.kind() != ObjectKind.MUTEX) {
      out.reply(Refused.of(Reason.FAILED, obj.address() + " is not a mutex"));
      return;
    }
    MutexCell mutex = obj.mutexCell();
    NodeId holder = NodeId.of(l.holder());
    long object = obj.objectId();
    GlobalAddress address = obj.address();
    mutexes.lock(
        mutex,
        holder,
        l.lockId(),
        new MutexQueue.Listener() {
          @Override
          public void granted(long word) {
            if (ports.isDeparted(holder)) {
              mutexes.cancel(mutex, holder, l.lockId()); // nobody will unlock
              return;
            }
            ReadBuffer committed = new ReadBuffer(256);
            mutexes.readCommitted(mutex, object, committed);
            int payload = committed.length() - SnapshotCodec.HEADER_BYTES;
            byte[] value = new byte[payload <= moveInlineBytes ? payload : 0];
            System.arraycopy(committed.bytes(), SnapshotCodec.HEADER_BYTES, value, 0, value.length);
            out.reply(new HomeReply.Locked(word, SnapshotCodec.color(committed.bytes(), 0), value));
          }

          @Override
          public void timedOut(long word, long waitedNs) {
            out.reply(lockConflict(address, word, waitedNs));
          }
        });
  }

  /** A lock that was not granted in time, saying who held it. */
  private static Refused lockConflict(GlobalAddress address, long word, long waitedNs) {
    long holder = LockWord.holder(word);
    return Refused.of(
        Reason.CONFLICT,
        "the lock of mutex "
            + address.objectName()
            + " waited "
            + TimeUnit.NANOSECONDS.toMillis(waitedNs)
            + " ms (pekko.dsm.borrow-timeout) and is still "
            + (holder == 0
                ? "passing to lockers queued ahead"
                : "held by the node tagged " + Long.toHexString(holder))
            + "; a holder must close its guard");
  }

  void unlock(OwnedObject obj, HomeRequest.Unlock u, Responder out) {
    if (obj.kind() != ObjectKind.MUTEX) {
      out.reply(Refused.of(Reason.FAILED, obj.address() + " is not a mutex"));
      return;
    }
    ports.offload(() -> commit(obj, u, out));
  }

  private void commit(OwnedObject obj, HomeRequest.Unlock u, Responder out) {
    MutexCell mutex = obj.mutexCell();
    NodeId holder = NodeId.of(u.holder());
    MutexHome.Commit commit;
    try {
      commit =
          mutexes.commitFor(
              mutex, obj.objectId(), holder, u.lockId(), ports.decodeValue(u.value()));
    } catch (RuntimeException e) {
      mutexes.releaseFor(mutex, obj.objectId(), holder, u.lockId());
      out.reply(Refused.of(Reason.FAILED, "the new value cannot be committed: " + e));
      return;
    }
    if (commit == MutexHome.Commit.NOT_HELD) {
      out.reply(
          Refused.of(
              Reason.STALE,
              "this node no longer holds the lock of "
                  + obj.address().objectName()
                  + ": it was released because the node was thought gone, or gave up"));
      return;
    }
    out.reply(new HomeReply.Unlocked());
  }

  void cancelLock(OwnedObject obj, HomeRequest.CancelLock c) {
    if (obj.kind() == ObjectKind.MUTEX) {
      mutexes.cancel(obj.mutexCell(), NodeId.of(c.holder()), c.lockId());
    }
  }

  void handedOff(OwnedObject obj) {
    if (obj.kind() == ObjectKind.MUTEX) {
      mutexes.handedOff(obj.mutexCell());
    }
  }

  // ---------------------------------------------------------------- functions run here

  /**
   * Runs a shipped function on an object homed here, once the borrow its mode needs is granted.
   * Never fails: a refusal or the function's error is the answer.
   *
   * @param color the color the caller knows (ignored for a mutex)
   * @param remote the caller is on another node: after a write, the new color is published for it
   */
  public CompletableFuture<HomeReply> runAt(
      OwnedObject obj, int color, RunMode mode, byte[] fn, boolean remote) {
    GlobalAddress address = obj.address();
    boolean mutex = obj.kind() == ObjectKind.MUTEX;
    if (mode.locked() != mutex || (mode == RunMode.WRITE && obj.kind() != ObjectKind.BOX)) {
      return CompletableFuture.completedFuture(
          Refused.of(
              Reason.FAILED,
              "object " + address.objectName() + " cannot run a task in mode " + mode));
    }
    if (!mutex && address.color() != color) {
      return CompletableFuture.completedFuture(
          Refused.of(
              Reason.STALE,
              "a task for "
                  + address.objectName()
                  + " at color "
                  + color
                  + " arrived at color "
                  + address.color()));
    }
    if (mutex) {
      return runLocked(obj, mode, fn);
    }
    BorrowState.Kind kind =
        mode == RunMode.SHARED ? BorrowState.Kind.SHARED : BorrowState.Kind.EXCLUSIVE;
    return obj.acquire(kind, null, 0, "a task", borrowTimeoutNs)
        .handle(
            (granted, failure) ->
                failure != null
                    ? CompletableFuture.<HomeReply>completedFuture(refusal(address, failure))
                    : ports.runHeld(obj, mode, fn, remote).<HomeReply>thenApply(r -> r))
        .thenCompose(f -> f);
  }

  /** Runs a function under a mutex's lock, taken by the home for it (queueing if held). */
  private CompletableFuture<HomeReply> runLocked(OwnedObject obj, RunMode mode, byte[] fn) {
    CompletableFuture<HomeReply> answer = new CompletableFuture<>();
    GlobalAddress address = obj.address();
    mutexes.lockHere(
        obj.mutexCell(),
        obj.objectId(),
        nextLockId.getAndIncrement(),
        new MutexQueue.Listener() {
          @Override
          public void granted(long word) {
            ports.runLocked(obj, word, mode, fn).thenAccept(answer::complete);
          }

          @Override
          public void timedOut(long word, long waitedNs) {
            answer.complete(lockConflict(address, word, waitedNs));
          }
        });
    return answer;
  }

  // ---------------------------------------------------------------- departures

  /** What a departed node left behind here. */
  public record Departure(int reclaimedRefs, int orphans, int locksReleased) {}

  /**
   * A node left the cluster for good (the caller has marked it departed first, so adoptions racing
   * with this see it): its locks are released (the last committed value stands), the references
   * lent to it reclaimed, and the objects it owned through a box dropped once their references are
   * back.
   */
  public Departure departed(NodeId node) {
    int reclaimed = 0;
    int orphans = 0;
    int locks = 0;
    for (OwnedObject obj : table.objects()) {
      if (obj.kind() == ObjectKind.MUTEX
          && mutexes.departed(obj.mutexCell(), obj.objectId(), node)) {
        locks++;
      }
      reclaimed += obj.reclaim(node);
      if (node.equals(obj.boxHolder())) {
        orphans++;
        dropOrphan(obj, node);
      }
    }
    return new Departure(reclaimed, orphans, locks);
  }

  private void dropOrphan(OwnedObject obj, NodeId departedOwner) {
    // Lent references may still be out; the object goes when the last one comes back.
    obj.acquire(
            BorrowState.Kind.EXCLUSIVE,
            null,
            0,
            "the drop of an object whose owner left",
            TimeUnit.MINUTES.toNanos(10))
        .whenComplete(
            (ok, failure) -> {
              if (failure == null) {
                table.retire(obj, BorrowState.Phase.DROPPED, null);
              } else {
                ports.orphanKept(obj.address(), departedOwner, failure);
              }
            });
  }

  // ---------------------------------------------------------------- refusals

  /** The answer for an object no longer in the table, from its tombstone. */
  public Refused goneReason(long object) {
    Tombstones.Tombstone t = table.tombstone(object);
    String name = name(self.value(), object);
    if (t == null) {
      return Refused.of(Reason.UNKNOWN, "object " + name + " is not known at its home");
    }
    return switch (t.phase()) {
      case MOVED ->
          new Refused(
              Reason.MOVED,
              "object " + name + " moved to " + t.movedTo(),
              t.movedTo().node().value(),
              t.movedTo().object(),
              0,
              Map.of());
      case DROPPED -> Refused.of(Reason.DROPPED, "object " + name + " was dropped");
      default -> Refused.of(Reason.LOST, "object " + name + " was lost");
    };
  }

  /** The answer for a borrow at the home that failed. */
  public Refused refusal(GlobalAddress address, Throwable failure) {
    Throwable cause =
        failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause()
            : failure;
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

  private static Refused staleColor(String what, GlobalAddress address, int asked) {
    return Refused.of(
        Reason.STALE,
        what
            + " of "
            + address.objectName()
            + " asked for color "
            + asked
            + ", it has "
            + address.color());
  }

  private static Refused cannotPublish(GlobalAddress address, RuntimeException e) {
    return Refused.of(
        Reason.FAILED, "the home could not publish " + address + ": " + e.getMessage());
  }

  /** An object's name as entity ids and messages show it: home and id in hex. */
  public static String name(long home, long object) {
    return Long.toHexString(home) + ":" + Long.toHexString(object);
  }
}
