package dev.pekkodsm;

import dev.pekkodsm.coherence.BorrowState.Attempt;
import dev.pekkodsm.coherence.BorrowState.Kind;
import dev.pekkodsm.coherence.GlobalAddress;
import dev.pekkodsm.coherence.LendLedger;
import dev.pekkodsm.coherence.NodeId;
import dev.pekkodsm.coherence.OwnedObject;
import dev.pekkodsm.internal.DsmNode;
import dev.pekkodsm.internal.HandleCodec;
import dev.pekkodsm.internal.Protocol;
import java.util.ArrayList;
import java.util.List;

/**
 * The handles' side of serialization: what a box or reference becomes on the wire, and what
 * arriving on a node does. Serializers reach it through {@link HandleCodec}; the handles keep their
 * constructors package-private.
 *
 * <p>Exports and imports made inside a {@link #openScope() scope} are rolled back if the enclosing
 * message fails to serialize (or to deserialize) after the handle was handled: a failed send never
 * loses ownership or weight, and a message that cannot be read gives back what it carried.
 */
final class HandleBridge implements HandleCodec {

  private DsmNode node;
  private final ThreadLocal<Tracked> current = new ThreadLocal<>();

  /** What a scope has done so far: how to undo it, and how to let go of what it read. */
  private static final class Tracked {
    final List<Runnable> undo = new ArrayList<>(2);
    final List<Runnable> imported = new ArrayList<>(2);
  }

  void attach(DsmNode node) {
    this.node = node;
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
  public BoxWire exportBox(DBox<?> box) {
    DBox.Place p = box.place();
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
      long self = node.self().value();
      BoxWire wire;
      if (p.local()) {
        DsmNode.Snapshot snapshot = node.ensurePublished(guard);
        GlobalAddress a = guard.address();
        wire =
            new BoxWire(
                self, a.object(), a.color(), snapshot.locator(), snapshot.frameBytes(), self);
      } else {
        GlobalAddress a = p.remote();
        wire =
            new BoxWire(a.node().value(), a.object(), a.color(), p.locator(), p.frameBytes(), self);
      }
      if (!box.kill(p, "it was sent to another node in a message, which owns it now")) {
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
              guard.boxHolder(node.self());
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
  public DBox<?> importBox(BoxWire w) {
    NodeId home = NodeId.of(w.home());
    GlobalAddress address = new GlobalAddress(home, w.object(), w.color());
    if (home.equals(node.self())) {
      OwnedObject obj = node.object(w.object());
      if (obj == null || obj.color() != w.color()) {
        return DBox.dead(node, address, "its object no longer exists at its home");
      }
      obj.boxHolder(node.self());
      DBox<?> box = DBox.local(node, obj);
      onImport(box::dropAsync);
      return box;
    }
    DBox<?> box = DBox.remote(node, address, w.locator(), w.frameBytes());
    node.tell(
        new Protocol.Adopt(
            w.home(), w.object(), w.color(), w.from(), node.self().value(), 0, 0, true, false));
    // If the rest of the message cannot be read, nobody else can own this object any more.
    onImport(box::dropAsync);
    return box;
  }

  @Override
  public RefWire exportRef(DRef<?> ref) {
    return exportLend(ref.lend);
  }

  @Override
  public DRef<?> importRef(RefWire w) {
    return new DRef<>(importLend(w, "DRef"));
  }

  @Override
  public RefWire exportArc(DArc<?> arc) {
    return exportLend(arc.lend);
  }

  @Override
  public DArc<?> importArc(RefWire w) {
    return new DArc<>(importLend(w, "DArc"));
  }

  @Override
  public RefWire exportAtomic(DAtomicLong atomic) {
    return exportLend(atomic.lend);
  }

  @Override
  public DAtomicLong importAtomic(RefWire w) {
    return new DAtomicLong(importLend(w, "DAtomicLong"));
  }

  @Override
  public RefWire exportMutex(DMutex<?> mutex) {
    return exportLend(mutex.lend);
  }

  @Override
  public DMutex<?> importMutex(RefWire w) {
    return new DMutex<>(importLend(w, "DMutex"));
  }

  @Override
  public VecWire exportVec(DVec<?> vec) {
    Object[] slots = vec.takeForSend();
    onRollback(vec::revive);
    return new VecWire(vec.kind().ordinal(), vec.size(), vec.chunkSize(), slots);
  }

  @Override
  public DVec<?> importVec(VecWire w) {
    DVec.Kind[] kinds = DVec.Kind.values();
    if (w.kind() < 0 || w.kind() >= kinds.length) {
      throw new IllegalArgumentException("malformed DVec: kind " + w.kind());
    }
    DVec.Kind kind = kinds[w.kind()];
    if (w.size() < 0
        || w.chunkSize() < 1
        || (kind == DVec.Kind.HANDLES && w.chunkSize() != 1)
        || w.slots().length != DVec.slotCount(kind, w.size(), w.chunkSize())) {
      throw new IllegalArgumentException(
          "malformed DVec: "
              + w.slots().length
              + " slots for "
              + w.size()
              + " elements in chunks of "
              + w.chunkSize());
    }
    for (Object slot : w.slots()) {
      boolean fits =
          switch (kind) {
            case VALUES -> slot instanceof DBox<?>;
            case VIEW -> slot instanceof DRef<?>;
            case HANDLES ->
                slot instanceof DMutex<?> || slot instanceof DArc<?> || slot instanceof DAtomicLong;
          };
      if (!fits) {
        throw new IllegalArgumentException(
            "malformed DVec: a "
                + kind
                + " vector holds a "
                + (slot == null ? "null" : slot.getClass().getSimpleName()));
      }
    }
    return new DVec<>(node, kind, w.size(), w.chunkSize(), w.slots());
  }

  @Override
  public void discard(Object[] handles) {
    for (Object h : handles) {
      if (h instanceof DBox<?> b) {
        b.dropAsync();
      } else if (h instanceof DRef<?> r) {
        r.lend.release();
      } else if (h instanceof DArc<?> a) {
        a.lend.release();
      } else if (h instanceof DMutex<?> m) {
        m.lend.release();
      } else if (h instanceof DAtomicLong l) {
        l.lend.release();
      } else if (h instanceof DVec<?> v) {
        v.dropAsync();
      }
    }
  }

  private RefWire exportLend(Lend<?> ref) {
    GlobalAddress a = ref.address();
    // Taking the lend first: a dead reference fails here, and while the lend travels its
    // weight is still outstanding, so the color cannot change under the publish below.
    long weight = ref.takeForSend();
    long locator;
    int frameBytes;
    try {
      if (ref.kind() == Lend.Kind.LENT_LOCAL) {
        DsmNode.Snapshot snapshot = node.ensurePublished(ref.localObject());
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
        a.node().value(), a.object(), a.color(), locator, frameBytes, weight, node.self().value());
  }

  private <T> Lend<T> importLend(RefWire w, String typeName) {
    NodeId home = NodeId.of(w.home());
    NodeId from = NodeId.of(w.from());
    GlobalAddress address = new GlobalAddress(home, w.object(), w.color());
    if (w.weight() <= 0) {
      return Lend.revoked(node, typeName, address, "it arrived without weight");
    }
    if (home.equals(node.self())) {
      OwnedObject obj = node.object(w.object());
      if (obj == null
          || obj.adopt(from, node.self(), w.weight(), w.color(), node::isDeparted)
              != OwnedObject.Adoption.ACCEPTED) {
        return Lend.revoked(node, typeName, address, "its version no longer exists at its home");
      }
      Lend<T> ref = Lend.lentLocal(node, typeName, obj, address, w.weight());
      onImport(ref::release);
      return ref;
    }
    Lend<T> ref =
        Lend.lentRemote(node, typeName, address, w.locator(), w.frameBytes(), w.weight(), from);
    if (node.isDeparted(from)) {
      ref.senderLeft(from); // its weight may have been reclaimed already: confirm before reading
    }
    node.tell(
        new Protocol.Adopt(
            w.home(),
            w.object(),
            w.color(),
            w.from(),
            node.self().value(),
            w.weight(),
            ref.refId(),
            false,
            w.weight() < LendLedger.TOP_UP_BELOW));
    onImport(ref::release);
    return ref;
  }
}
