package dev.pekkodsm.internal;

import dev.pekkodsm.UseAfterMoveException;
import dev.pekkodsm.coherence.BorrowState.Attempt;
import dev.pekkodsm.coherence.BorrowState.Kind;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.LendLedger;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.coherence.Snapshot;
import dev.pekkodsm.coherence.client.BoxState;
import dev.pekkodsm.coherence.home.HomeRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * This node's {@link HandleCodec}: what a box or a weighted handle becomes on the wire, and what
 * arriving on a node does. Exports and imports made inside a {@link #openScope() scope} are rolled
 * back if the enclosing message fails to serialize (or to deserialize) after the handle was
 * handled: a failed send never loses ownership or weight, and a message that cannot be read gives
 * back what it carried.
 *
 * <p>Thread-safe; scopes are per thread.
 */
final class HandleWire implements HandleCodec {

  private final Facades facades;
  private final Supplier<ClientContext> context; // built after the serializers that use this
  private final ThreadLocal<Tracked> current = new ThreadLocal<>();

  /** What a scope has done so far: how to undo it, and how to let go of what it read. */
  private static final class Tracked {
    final List<Runnable> undo = new ArrayList<>(2);
    final List<Runnable> imported = new ArrayList<>(2);
  }

  HandleWire(Facades facades, Supplier<ClientContext> context) {
    this.facades = facades;
    this.context = context;
  }

  @Override
  public Scope openScope() {
    Tracked outer = current.get();
    Tracked mine = new Tracked();
    current.set(mine);
    return new Scope() {
      @Override
      public void commit() {
        current.set(outer);
      }

      @Override
      public boolean touchedHandles() {
        return !mine.undo.isEmpty();
      }

      @Override
      public void rollback() {
        current.set(outer);
        for (int i = mine.undo.size() - 1; i >= 0; i--) {
          mine.undo.get(i).run();
        }
      }

      @Override
      public void releaseImported() {
        for (Runnable release : mine.imported) {
          try {
            release.run();
          } catch (RuntimeException e) {
            // a debug-mode mutation report, say: the handle is given back regardless
          }
        }
      }
    };
  }

  private void onRollback(Runnable action) {
    Tracked t = current.get();
    if (t != null) {
      t.undo.add(action);
    }
  }

  /** A handle was read: undone if the message fails, and let go of by releaseImported. */
  private void onImport(Runnable letGo) {
    Tracked t = current.get();
    if (t != null) {
      t.undo.add(letGo);
      t.imported.add(letGo);
    }
  }

  @Override
  public BoxWire exportBox(Object handle) {
    BoxCore box = facades.boxCore(handle);
    ClientContext ctx = box.context();
    BoxCore.Place p = box.place();
    OwnedObject guard = p.guard();
    // At the home the object's own record sees every borrow, so a shared hold suffices: a
    // writer on the receiving node waits for local readers there. A box whose object lives
    // elsewhere orders its borrows only here, so it may not leave while any is active.
    Kind hold = p.local() ? Kind.SHARED : Kind.EXCLUSIVE;
    if (guard.tryAcquire(hold, null, 0, null) != Attempt.GRANTED) {
      throw new IllegalStateException(
          "cannot send the DBox of "
              + p.address().objectName()
              + " while it is borrowed through this box (a read, a scoped borrow, a write, a move "
              + "or a drop in progress); send it after that ends");
    }
    try {
      long self = ctx.self().value();
      BoxWire wire;
      if (p.local()) {
        Snapshot snapshot = ctx.publisher().publish(guard);
        GlobalAddress a = guard.address();
        wire =
            new BoxWire(
                self, a.object(), a.color(), snapshot.locator(), snapshot.frameBytes(), self);
      } else {
        GlobalAddress a = p.remote();
        wire =
            new BoxWire(a.node().value(), a.object(), a.color(), p.locator(), p.frameBytes(), self);
      }
      if (!box.kill(p, BoxState.SENT)) {
        throw new UseAfterMoveException(
            p.address(), "the DBox of " + p.address().objectName() + " was moved while being sent");
      }
      if (p.local()) {
        guard.boxHolder(null); // in transit until the receiver adopts it
      }
      onRollback(
          () -> {
            box.revive(p);
            if (p.local()) {
              guard.boxHolder(ctx.self());
            }
          });
      return wire;
    } finally {
      if (hold == Kind.SHARED) {
        guard.endShared();
      } else {
        guard.endExclusive();
      }
    }
  }

  @Override
  public Object importBox(BoxWire w) {
    ClientContext ctx = context.get();
    NodeId home = NodeId.of(w.home());
    GlobalAddress address = new GlobalAddress(home, w.object(), w.color());
    BoxCore box;
    if (home.equals(ctx.self())) {
      OwnedObject obj = ctx.table().get(w.object());
      if (obj == null || obj.color() != w.color()) {
        return facades.box(BoxCore.dead(ctx, address, "its object no longer exists at its home"));
      }
      obj.boxHolder(ctx.self());
      box = BoxCore.local(ctx, obj);
    } else {
      box = BoxCore.remote(ctx, address, w.locator(), w.frameBytes());
      adopted(ctx, w.home(), w.object(), w.color(), w.from(), 0, 0, true);
    }
    // If the rest of the message cannot be read, nobody else can own this object any more.
    onImport(box::drop);
    return facades.box(box);
  }

  @Override
  public RefWire exportWeighted(Object handle) {
    LendCore ref = facades.lendCore(handle);
    ClientContext ctx = ref.context();
    GlobalAddress a = ref.address();
    // Taking the weight first: a dead reference fails here, and while the weight travels it is
    // still outstanding, so the color cannot change under the publish below.
    long weight = ref.takeForSend();
    long locator;
    int frameBytes;
    try {
      if (ref.form() == LendCore.Form.LOCAL) {
        Snapshot snapshot = ctx.publisher().publish(ref.localObject());
        locator = snapshot.locator();
        frameBytes = snapshot.frameBytes();
      } else {
        locator = ref.locator();
        frameBytes = ref.frameBytes();
      }
    } catch (RuntimeException e) {
      ref.restoreAfterFailedSend(weight);
      throw e;
    }
    onRollback(() -> ref.restoreAfterFailedSend(weight));
    return new RefWire(
        a.node().value(), a.object(), a.color(), locator, frameBytes, weight, ctx.self().value());
  }

  @Override
  public Object importWeighted(HandleKind kind, RefWire w) {
    ClientContext ctx = context.get();
    NodeId home = NodeId.of(w.home());
    NodeId from = NodeId.of(w.from());
    GlobalAddress address = new GlobalAddress(home, w.object(), w.color());
    if (w.weight() <= 0) {
      return facades.weighted(
          kind, LendCore.revoked(ctx, kind, address, "it arrived without weight"));
    }
    LendCore ref;
    if (home.equals(ctx.self())) {
      OwnedObject obj = ctx.table().get(w.object());
      if (obj == null
          || obj.adopt(from, ctx.self(), w.weight(), w.color(), ctx::isDeparted)
              != OwnedObject.Adoption.ACCEPTED) {
        return facades.weighted(
            kind, LendCore.revoked(ctx, kind, address, "its version no longer exists at its home"));
      }
      ref = LendCore.local(ctx, kind, obj, address, w.weight());
    } else {
      ref = LendCore.remote(ctx, kind, address, w.locator(), w.frameBytes(), w.weight(), from);
      if (ctx.isDeparted(from)) {
        ref.nodeLeft(from); // its weight may have been reclaimed already: confirm before reading
      }
      adopted(ctx, w.home(), w.object(), w.color(), w.from(), w.weight(), ref.refId(), false);
    }
    onImport(ref::release);
    return facades.weighted(kind, ref);
  }

  /**
   * Tells the home that a handle sent from {@code from} arrived here; a reference that arrived with
   * little weight asks for more at once.
   */
  private static void adopted(
      ClientContext ctx,
      long home,
      long object,
      int color,
      long from,
      long weight,
      long refId,
      boolean box) {
    boolean topUp = !box && weight < LendLedger.TOP_UP_BELOW;
    ctx.homes()
        .tell(
            new HomeRequest.Adopt(
                home, object, color, from, ctx.self().value(), weight, refId, box, topUp));
  }

  @Override
  public VecWire exportVec(Object vec) {
    VecWire wire = facades.exportVec(vec);
    onRollback(() -> facades.reviveVec(vec));
    return wire;
  }

  @Override
  public Object importVec(VecWire w) {
    return facades.importVec(context.get(), w);
  }

  @Override
  public void discard(Object[] handles) {
    for (Object h : handles) {
      if (h != null) {
        facades.discard(h);
      }
    }
  }
}
