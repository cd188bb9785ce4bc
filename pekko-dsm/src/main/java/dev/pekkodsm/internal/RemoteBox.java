package dev.pekkodsm.internal;

import com.esotericsoftware.kryo.KryoException;
import dev.pekkodsm.CorruptSnapshotException;
import dev.pekkodsm.DsmTimeoutException;
import dev.pekkodsm.ObjectLostException;
import dev.pekkodsm.StaleReferenceException;
import dev.pekkodsm.UseAfterMoveException;
import dev.pekkodsm.coherence.BorrowState.Kind;
import dev.pekkodsm.coherence.BorrowState.Phase;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.client.BoxState;
import dev.pekkodsm.coherence.client.Refusals;
import dev.pekkodsm.coherence.home.HomeReply;
import dev.pekkodsm.coherence.home.HomeRequest;
import dev.pekkodsm.coherence.home.RunMode;
import dev.pekkodsm.internal.BoxCore.Place;
import dev.pekkodsm.serialization.SnapshotFormatException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The client side of a box whose object lives on another node: each exchange with the object's
 * home, from the request to what the box does with the answer. A move (hand-over), a lend, a
 * freeze, a drop, a function run there, and finding the object again when an answer was lost.
 *
 * <p>Each method is called with the box's place held as the exchange needs (the guard's exclusive
 * borrow for a move, a freeze, a drop or a write there; a shared one for a read there) and releases
 * or retires it before its future completes.
 */
final class RemoteBox {

  private RemoteBox() {}

  /**
   * Moves the object here under a new id: one request to its home, one reply with the value (or,
   * for a large value, its place in the home's arena, read one-sided). On success the guard is
   * retired and the box points at the new local record, held exclusively for the caller; on failure
   * the guard is released.
   */
  static CompletableFuture<OwnedObject> moveHere(BoxCore box, Place p) {
    ClientContext ctx = box.context();
    GlobalAddress from = p.remote();
    long newId = ctx.table().nextObjectId();
    HomeRequest.HandOver request =
        new HomeRequest.HandOver(
            from.node().value(), from.object(), from.color(), ctx.self().value(), newId);
    // If the answer is late, ask once more with the same new id: the home keeps its answer for
    // a while, so the retry cannot hand the object over twice, nor lose it.
    return ctx.homes()
        .askRetryingOnce(
            from, request, ctx.borrowingAskTimeout(), ctx.settings().askTimeout, "hand over")
        .thenCompose(
            reply -> {
              if (reply instanceof HomeReply.HandedOver h) {
                return CompletableFuture.supplyAsync(
                    () -> ctx.publisher().decodeMoved(h.value()), Runnable::run);
              }
              if (reply instanceof HomeReply.HandedOverAt at) {
                return ctx.reader().fetchMoved(from, at);
              }
              throw refusal(box, p, (HomeReply.Refused) reply, "write");
            })
        .handle(
            (value, failure) -> {
              if (failure == null) {
                OwnedObject obj = ctx.table().allocateMoved(newId, value);
                ctx.metrics().moveIn();
                box.moved(new Place(obj, true, null, 0, 0));
                p.guard().retire(Phase.MOVED);
                return obj;
              }
              Throwable cause = Futures.unwrap(failure);
              if (cause instanceof CorruptSnapshotException
                  || cause instanceof KryoException
                  || cause instanceof SnapshotFormatException) {
                // The home has already given the object up: it is gone.
                box.kill(
                    p,
                    BoxState.LOST,
                    "the object was lost while moving here: " + cause.getMessage());
                p.guard().retire(Phase.LOST);
              } else {
                p.guard().endExclusive();
              }
              throw Futures.propagate(cause);
            });
  }

  /** Asks the home to lend a reference; the box's place is read-held meanwhile. */
  static CompletableFuture<Optional<LendCore>> share(BoxCore box, Place p) {
    ClientContext ctx = box.context();
    return box.grab(p, Kind.SHARED, "share")
        .thenCompose(
            granted -> {
              if (!granted) {
                return BoxCore.again();
              }
              if (!box.current(p)) {
                p.guard().endShared();
                return BoxCore.again();
              }
              GlobalAddress a = p.remote();
              long self = ctx.self().value();
              long requestId = ctx.homes().nextRequestId();
              HomeRequest.Lend request =
                  new HomeRequest.Lend(a.node().value(), a.object(), a.color(), self, requestId);
              return ctx.homes()
                  .askRetryingOnce(
                      a, request, ctx.borrowingAskTimeout(), ctx.settings().askTimeout, "lend")
                  .handle(
                      (reply, failure) -> {
                        p.guard().endShared();
                        if (failure != null) {
                          if (Futures.unwrap(failure) instanceof DsmTimeoutException) {
                            // Whatever the home granted meanwhile is given back.
                            ctx.homes()
                                .tell(
                                    new HomeRequest.CancelLend(
                                        a.node().value(), a.object(), self, requestId));
                          }
                          throw Futures.propagate(failure);
                        }
                        if (reply instanceof HomeReply.Lent l) {
                          return Optional.of(
                              LendCore.remote(
                                  ctx,
                                  HandleKind.REF,
                                  a.withColor(l.color()),
                                  l.locator(),
                                  l.frameBytes(),
                                  l.weight(),
                                  null));
                        }
                        throw refusal(box, p, (HomeReply.Refused) reply, "share");
                      });
            });
  }

  /** Asks the home to freeze the object; the box's place is held exclusively meanwhile. */
  static CompletableFuture<Optional<LendCore>> freeze(BoxCore box, Place p) {
    ClientContext ctx = box.context();
    if (!box.current(p)) {
      p.guard().endExclusive();
      return BoxCore.again();
    }
    GlobalAddress a = p.remote();
    return ctx.homes()
        .ask(
            a,
            new HomeRequest.Freeze(a.node().value(), a.object(), a.color(), ctx.self().value()),
            ctx.borrowingAskTimeout(),
            "freeze")
        .handle(
            (reply, failure) -> {
              if (reply instanceof HomeReply.Lent l) {
                box.kill(p, BoxState.FROZEN);
                p.guard().retire(Phase.DROPPED);
                return Optional.of(
                    LendCore.remote(
                        ctx,
                        HandleKind.ARC,
                        a.withColor(l.color()),
                        l.locator(),
                        l.frameBytes(),
                        l.weight(),
                        null));
              }
              p.guard().endExclusive();
              if (failure != null) {
                throw Futures.propagate(failure);
              }
              throw refusal(box, p, (HomeReply.Refused) reply, "freeze");
            });
  }

  /**
   * Asks the home to drop the object; the box's place is held exclusively meanwhile. An object
   * already dropped or lost counts as dropped.
   */
  static CompletableFuture<Optional<Boolean>> drop(BoxCore box, Place p) {
    ClientContext ctx = box.context();
    if (!box.current(p)) {
      p.guard().endExclusive();
      return BoxCore.again();
    }
    GlobalAddress a = p.remote();
    return ctx.homes()
        .ask(
            a,
            new HomeRequest.Drop(a.node().value(), a.object(), a.color(), ctx.self().value()),
            ctx.borrowingAskTimeout(),
            "drop")
        .handle(
            (reply, failure) -> {
              Throwable cause = failure == null ? null : Futures.unwrap(failure);
              if (reply instanceof HomeReply.Dropped
                  || cause instanceof ObjectLostException
                  || (reply instanceof HomeReply.Refused r
                      && (r.reason() == HomeReply.Reason.LOST
                          || r.reason() == HomeReply.Reason.DROPPED))) {
                box.kill(p, BoxState.DROPPED);
                p.guard().retire(Phase.DROPPED);
                return BoxCore.DONE;
              }
              p.guard().endExclusive();
              if (cause != null) {
                throw Futures.propagate(cause);
              }
              throw refusal(box, p, (HomeReply.Refused) reply, "drop");
            });
  }

  /**
   * Runs a function on the object at its home under a mutable borrow there; the box then follows
   * the object's new color (and id, if its colors ran out). The place is held exclusively.
   */
  static CompletableFuture<Object> runThere(BoxCore box, Place p, byte[] fn) {
    ClientContext ctx = box.context();
    GlobalAddress at = p.remote();
    return ctx.tasks()
        .runAt(at, RunMode.WRITE, fn)
        .handle(
            (reply, failure) -> {
              if (failure != null) {
                // No answer: the home may have run it, and advanced the color. Ask.
                return resync(box, p, null)
                    .<HomeReply.TaskResult>handle(
                        (ignored, resyncFailure) -> {
                          throw Futures.propagate(failure);
                        });
              }
              if (reply instanceof HomeReply.TaskResult r) {
                if (r.object() == 0) {
                  p.guard().endExclusive(); // it did not run: nothing changed
                  return CompletableFuture.completedFuture(r);
                }
                GlobalAddress now = new GlobalAddress(at.node(), r.object(), r.color());
                Place next =
                    new Place(ctx.table().guardFor(now), false, now, r.locator(), r.frameBytes());
                if (r.locator() != 0) {
                  box.follow(p, next);
                  return CompletableFuture.completedFuture(r);
                }
                // Written, but its snapshot could not be published: ask the home to publish it;
                // failing that, follow the color without a snapshot (reads fail, writes work).
                return resync(box, p, next).handle((ok, resyncFailure) -> r);
              }
              p.guard().endExclusive();
              ctx.shipping().discard(fn); // refused: it did not run
              throw refusal(box, p, (HomeReply.Refused) reply, "spawnTo");
            })
        .thenCompose(f -> f)
        .thenApply(r -> ctx.shipping().value(at.node(), at, r));
  }

  /**
   * Runs a function on the object at its home under a shared borrow there; the place is read-held.
   */
  static CompletableFuture<Object> readThere(BoxCore box, Place p, byte[] fn) {
    ClientContext ctx = box.context();
    GlobalAddress at = p.remote();
    return ctx.tasks()
        .runAt(at, RunMode.SHARED, fn)
        .handle(
            (reply, failure) -> {
              p.guard().endShared();
              if (failure != null) {
                throw Futures.propagate(failure);
              }
              if (reply instanceof HomeReply.TaskResult r) {
                return ctx.shipping().value(at.node(), at, r);
              }
              ctx.shipping().discard(fn); // refused: it did not run
              throw refusal(box, p, (HomeReply.Refused) reply, "spawnTo");
            });
  }

  /**
   * Asks the home of this box's object (which only this box can change) for its id, color and
   * snapshot now, and follows them; the caller holds the place's guard exclusively, and it is
   * released (or retired, if the place changed) either way. If the home cannot say, the box follows
   * {@code ifUnknown}, or stays where it is if that is null.
   */
  private static CompletableFuture<Void> resync(BoxCore box, Place p, Place ifUnknown) {
    ClientContext ctx = box.context();
    GlobalAddress at = p.remote();
    return ctx.homes()
        .ask(
            at,
            new HomeRequest.Where(at.node().value(), at.object()),
            ctx.borrowingAskTimeout(),
            "locate")
        .handle(
            (reply, failure) -> {
              if (reply instanceof HomeReply.At a
                  && (a.object() != at.object() || a.color() != at.color())) {
                GlobalAddress now = new GlobalAddress(at.node(), a.object(), a.color());
                box.follow(
                    p,
                    new Place(ctx.table().guardFor(now), false, now, a.locator(), a.frameBytes()));
              } else if (!(reply instanceof HomeReply.At) && ifUnknown != null) {
                box.follow(p, ifUnknown);
              } else {
                p.guard().endExclusive();
              }
              if (failure != null) {
                throw Futures.propagate(failure);
              }
              return null;
            });
  }

  /** Turns a home's refusal into the public exception, killing the box if its object is gone. */
  static RuntimeException refusal(BoxCore box, Place p, HomeReply.Refused r, String operation) {
    ClientContext ctx = box.context();
    GlobalAddress a = p.address();
    return switch (Refusals.decide(r)) {
      case CONFLICT -> ctx.errors().conflict(a, operation, r);
      case LOST -> {
        box.kill(p, BoxState.LOST, "its home left the cluster");
        yield ctx.errors().lost(a);
      }
      case GONE -> {
        box.kill(p, BoxState.LOST, "its home no longer has it (" + r.detail() + ")");
        yield new UseAfterMoveException(
            a, "object " + a.objectName() + " is no longer owned by this DBox: " + r.detail());
      }
      case FAILED -> ctx.errors().failedAtHome(a, operation, r);
    };
  }

  /** A one-sided read that found the snapshot gone: a box's object cannot change behind it. */
  static RuntimeException lostOr(BoxCore box, Place p, RuntimeException e) {
    if (!(e instanceof StaleReferenceException)) {
      return e;
    }
    ClientContext ctx = box.context();
    box.kill(p, BoxState.LOST, "its home no longer has it");
    return ctx.objectsLost(p.remote().node())
        ? ctx.errors().lost(p.remote())
        : new ObjectLostException(
            p.remote(), "object " + p.remote().objectName() + " no longer exists at its home");
  }
}
