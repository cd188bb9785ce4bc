package dev.pekkodsm;

import dev.pekkodsm.internal.AtomicCore;
import dev.pekkodsm.internal.BoxCore;
import dev.pekkodsm.internal.ClientContext;
import dev.pekkodsm.internal.Facades;
import dev.pekkodsm.internal.HandleCodec;
import dev.pekkodsm.internal.HandleKind;
import dev.pekkodsm.internal.LendCore;
import dev.pekkodsm.internal.MutexCore;

/**
 * The handles as the internals reach them: each public handle is a facade over a core, and this
 * turns one into the other (the handles keep their constructors package-private). Found by the
 * runtime by name; stateless.
 */
final class HandleFacades implements Facades {

  HandleFacades() {}

  @Override
  public Object box(BoxCore core) {
    return new DBox<>(core);
  }

  @Override
  public BoxCore boxCore(Object box) {
    return ((DBox<?>) box).core;
  }

  @Override
  public Object weighted(HandleKind kind, LendCore core) {
    return switch (kind) {
      case REF -> new DRef<>(core);
      case ARC -> new DArc<>(core);
      case MUTEX -> new DMutex<>(new MutexCore(core));
      case ATOMIC -> new DAtomicLong(new AtomicCore(core));
      case BOX, VEC -> throw new IllegalArgumentException(kind + " holds no weight");
    };
  }

  @Override
  public LendCore lendCore(Object handle) {
    if (handle instanceof DRef<?> r) {
      return r.lend;
    } else if (handle instanceof DArc<?> a) {
      return a.lend;
    } else if (handle instanceof DMutex<?> m) {
      return m.core.lend();
    } else if (handle instanceof DAtomicLong l) {
      return l.core.lend();
    }
    throw new IllegalArgumentException("not a handle that holds weight: " + handle);
  }

  @Override
  public HandleCodec.VecWire exportVec(Object handle) {
    DVec<?> vec = (DVec<?>) handle;
    Object[] slots = vec.takeForSend();
    return new HandleCodec.VecWire(vec.kind().ordinal(), vec.size(), vec.chunkSize(), slots);
  }

  @Override
  public void reviveVec(Object vec) {
    ((DVec<?>) vec).revive();
  }

  @Override
  public Object importVec(ClientContext ctx, HandleCodec.VecWire w) {
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
    return new DVec<>(ctx, kind, w.size(), w.chunkSize(), w.slots());
  }

  @Override
  public void discard(Object handle) {
    if (handle instanceof DBox<?> b) {
      b.dropAsync();
    } else if (handle instanceof DVec<?> v) {
      v.dropAsync();
    } else {
      lendCore(handle).release();
    }
  }
}
